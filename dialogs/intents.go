package dialogs

import (
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/russian"
)

// Everyday phrasing reaches the right flow: «сколько у меня баллов?», «каталог вознаграждений»,
// «подарить другу», «когда сгорят», "my points", a small typo («балланс»). Each intent lists the words
// that point to it, written as people write them; they are stemmed once (Snowball, Russian or English
// by alphabet) and a typed word matches a keyword by stem, or within one edit when both are long. A
// text goes to the intent whose matching words weigh most; nothing matching means the short hint.
//
// To teach the bot a phrasing, add its telling word to the intent below (weight 2 for a word that
// names the flow itself, 1 for one that only hints at it, such as «баллы»).
var intents = []intent{
	{CmdForecast, 2, []string{"прогноз", "сгорание", "сгорят", "сгорит", "сгорают", "сгорело", "истекают", "forecast", "expire", "expiry", "expiring", "burn"}},
	{CmdGift, 2, []string{"подарить", "подарок", "подари", "перевести", "передать", "gift", "give", "send", "transfer"}},
	{CmdCatalog, 2, []string{"каталог", "вознаграждение", "обменять", "обмен", "потратить", "награды", "призы", "catalogue", "catalog", "reward", "rewards", "redeem", "spend", "shop"}},
	{CmdHistory, 2, []string{"история", "операции", "начисления", "списания", "history", "transactions", "activity", "statement"}},
	{CmdBalance, 2, []string{"баланс", "balance"}},
	{CmdBalance, 1, []string{"баллы", "бонусы", "бонус", "счёт", "накопил", "points", "bonus", "bonuses", "score"}},
	{CmdSupport, 2, []string{"поддержка", "оператор", "оператора", "человек", "помогите", "жалоба", "support", "operator", "human", "agent", "complaint"}},
	{CmdSettings, 2, []string{"настройки", "номер", "номера", "отвязать", "settings", "number", "unlink"}},
	{CmdLanguage, 2, []string{"язык", "english", "английский", "русский", "language", "russian"}},
	{CmdHelp, 2, []string{"помощь", "справка", "умеешь", "команды", "help", "commands"}},
	{CmdCancel, 2, []string{"отмена", "отменить", "стоп", "хватит", "cancel", "stop", "quit"}},
	{CmdMenu, 2, []string{"меню", "начало", "menu", "home"}},
	{CmdStart, 1, []string{"привет", "здравствуйте", "здравствуй", "добрый", "hello", "hi", "hey", "start"}},
}

type intent struct {
	command  string
	weight   int
	keywords []string
}

// keyword is one stemmed keyword of an intent.
type keyword struct {
	stem    string
	command string
	weight  int
}

var keywords = func() []keyword {
	var out []keyword
	for _, in := range intents {
		for _, w := range in.keywords {
			out = append(out, keyword{stem(normalise(w)), in.command, in.weight})
		}
	}
	return out
}()

// intentOf is the command free text most likely means, or "".
func intentOf(text string) string {
	scores := map[string]int{}
	best, bestScore := "", 0
	for _, w := range strings.FieldsFunc(normalise(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		s := stem(w)
		// A word counts once for an intent, by its best keyword; a slip counts a little less than a
		// match, so «помощь» is help before it is a mistyped «помогите».
		best := map[string]int{}
		for _, k := range keywords {
			switch {
			case s == k.stem:
				best[k.command] = max(best[k.command], 2*k.weight)
			case near(s, k.stem):
				best[k.command] = max(best[k.command], 2*k.weight-1)
			}
		}
		for c, sc := range best {
			scores[c] += sc
		}
	}
	for _, in := range intents { // table order breaks ties
		if sc := scores[in.command]; sc > bestScore {
			best, bestScore = in.command, sc
		}
	}
	return best
}

// normalise lower-cases and folds ё into е, as people type either.
func normalise(s string) string { return strings.ReplaceAll(strings.ToLower(s), "ё", "е") }

func stem(w string) string {
	for _, r := range w {
		if r >= 'а' && r <= 'я' {
			return russian.Stem(w, false)
		}
		break
	}
	return english.Stem(w, false)
}

// near says whether a typed stem is one edit from a keyword's, both long enough that one slip leaves
// the word recognisable («балланс»).
func near(typed, kw string) bool {
	a, b := []rune(typed), []rune(kw)
	if len(a) < 5 || len(b) < 5 {
		return false
	}
	return withinOneEdit(a, b)
}

// withinOneEdit is Levenshtein distance ≤ 1.
func withinOneEdit(a, b []rune) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i, j, edits := 0, 0, 0
	for i < len(a) && j < len(b) {
		if a[i] == b[j] {
			i, j = i+1, j+1
			continue
		}
		if edits++; edits > 1 {
			return false
		}
		if len(a) == len(b) {
			i++ // a substitution
		}
		j++ // an insertion into the shorter
	}
	return edits+(len(b)-j)+(len(a)-i) <= 1
}
