package dialogs

import (
	"regexp"
	"strings"
	"unicode"
)

// Commands the dialogs understand, as Telegram commands (without the slash).
const (
	CmdStart    = "start"
	CmdMenu     = "menu"
	CmdBalance  = "balance"
	CmdForecast = "forecast"
	CmdCatalog  = "catalog"
	CmdGift     = "gift"
	CmdHistory  = "history"
	CmdLanguage = "language"
	CmdHelp     = "help"
	CmdCancel   = "cancel"
	CmdSupport  = "support"
	CmdSettings = "settings"
)

// Commands is the command list the channel advertises (setMyCommands), in menu order; each has a
// description "command.<name>" in the locales.
var Commands = []string{CmdBalance, CmdForecast, CmdCatalog, CmdGift, CmdHistory, CmdSettings, CmdLanguage, CmdSupport, CmdHelp, CmdCancel, CmdMenu}

// MenuLabels are the message ids of the main menu's buttons, in rows; typed back, each is its command.
var MenuLabels = [][]string{
	{"menu.balance", "menu.forecast"},
	{"menu.catalog", "menu.gift"},
	{"menu.history", "menu.support", "menu.settings"},
}

// words maps what people type (and the menu buttons, once their icon is stripped) to commands.
// The programme's old codes work too: "БОНУС" was the SMS keyword, *111*455*0# the USSD balance.
var words = map[string]string{
	"баланс": CmdBalance, "баллы": CmdBalance, "проверить баллы": CmdBalance, "бонус": CmdBalance,
	"мои баллы": CmdBalance, "*111*455*0#": CmdBalance, "balance": CmdBalance, "points": CmdBalance,
	"прогноз": CmdForecast, "сгорание": CmdForecast, "forecast": CmdForecast,
	"каталог": CmdCatalog, "catalogue": CmdCatalog, "catalog": CmdCatalog,
	"подарить": CmdGift, "подарок": CmdGift, "gift": CmdGift,
	"история": CmdHistory, "history": CmdHistory,
	"поддержка": CmdSupport, "support": CmdSupport, "оператор": CmdSupport, "operator": CmdSupport,
	"настройки": CmdSettings, "settings": CmdSettings,
	"язык": CmdLanguage, "language": CmdLanguage,
	"меню": CmdMenu, "menu": CmdMenu, "start": CmdStart, "старт": CmdStart,
	"помощь": CmdHelp, "help": CmdHelp,
	"отмена": CmdCancel, "cancel": CmdCancel, "стоп": CmdCancel,
}

// answers are typed replies to a confirmation on screen: true says yes, false says no.
var answers = map[string]bool{
	"да": true, "ага": true, "угу": true, "конечно": true, "подтверждаю": true, "верно": true, "ок": true,
	"yes": true, "yep": true, "sure": true, "ok": true, "okay": true, "confirm": true,
	"нет": false, "не надо": false, "no": false, "nope": false,
}

// answerOf reads a typed yes or no («Да!», "ok."); ok is false for anything else.
func answerOf(text string) (yes, ok bool) {
	t := strings.ToLower(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(text), "!.")))
	yes, ok = answers[t]
	return yes, ok
}

// thanks are what people type to say thank you; the bot answers in kind rather than not understanding.
var thanks = map[string]bool{"спасибо": true, "спс": true, "благодарю": true, "спасибо большое": true,
	"большое спасибо": true, "thanks": true, "thank you": true, "thx": true, "ty": true}

// isThanks says whether the whole of text is a thank-you («Спасибо!», "Thanks."); a sentence that only
// contains one is left to the intents.
func isThanks(text string) bool {
	return thanks[strings.ToLower(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(text), "!.)")))]
}

var commandSet = func() map[string]bool {
	m := map[string]bool{CmdStart: true, CmdSettings: true}
	for _, c := range Commands {
		m[c] = true
	}
	return m
}()

// command is the command an input means, or "".
func command(in Input) string {
	if in.Command != "" {
		if commandSet[in.Command] {
			return in.Command
		}
		return "?" // an unknown slash command
	}
	return wordCommand(in.Text)
}

// wordCommand recognises a plain word or a menu label ("💰 Баланс").
func wordCommand(text string) string { return CommandOf(text) }

// CommandOf is the command a typed word or a menu label ("💰 Баланс") means, or "".
func CommandOf(text string) string {
	t := strings.ToLower(strings.TrimSpace(text))
	// Strip a label's icon, not digits: "100 points" is an amount, not the word "points".
	t = strings.TrimLeftFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '*' })
	return words[strings.TrimSpace(t)]
}

var ussdItem = regexp.MustCompile(`^\*111\*455\*(\d{1,6})#$`)

// itemCode recognises a catalogue code typed as text: "22" or the USSD form "*111*455*22#".
func itemCode(text string) (string, bool) {
	t := strings.TrimSpace(text)
	if m := ussdItem.FindStringSubmatch(t); m != nil {
		return m[1], true
	}
	if len(t) >= 1 && len(t) <= 4 && strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		if code := strings.TrimLeft(t, "0"); code != "" { // «022» is code 22
			return code, true
		}
	}
	return "", false
}

// PickLang maps a channel's language code to one of ours: Russian first, English for the rest.
func PickLang(code string) string {
	code = strings.ToLower(code)
	switch {
	case code == "", strings.HasPrefix(code, "ru"), strings.HasPrefix(code, "uk"), strings.HasPrefix(code, "be"), strings.HasPrefix(code, "kk"):
		return "ru"
	}
	return "en"
}
