package dialogs

import "testing"

// Real phrasings and the flow each must reach; "" means the short hint, not a guess.
func TestIntents(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		// balance
		"Баланс!": CmdBalance, "баланс": CmdBalance, "сколько у меня баллов?": CmdBalance, "мои баллы": CmdBalance,
		"Сколько баллов на счёте": CmdBalance, "балланс": CmdBalance, "баланс пожалуйста": CmdBalance, "покажи бонусы": CmdBalance,
		"проверить баллы": CmdBalance, "сколько я накопил": CmdBalance, "what's my balance": CmdBalance, "my points": CmdBalance,
		"how many points do I have": CmdBalance, "Balance?": CmdBalance, "balanse": CmdBalance,
		// forecast
		"когда сгорят": CmdForecast, "когда сгорят баллы?": CmdForecast, "что сгорит в этом месяце": CmdForecast,
		"прогноз сгорания": CmdForecast, "баллы сгорают?": CmdForecast, "when do my points expire": CmdForecast,
		"expiry forecast": CmdForecast, "прогноз": CmdForecast,
		// catalogue
		"каталог вознаграждений": CmdCatalog, "обменять": CmdCatalog, "обменять баллы": CmdCatalog, "хочу потратить бонусы": CmdCatalog,
		"что можно получить за баллы, какие награды": CmdCatalog, "каталог": CmdCatalog, "катлог": CmdCatalog, "rewards": CmdCatalog,
		"redeem my points": CmdCatalog, "show the catalogue": CmdCatalog, "Вознаграждения": CmdCatalog,
		// gift
		"подарить другу": CmdGift, "подарить баллы маме": CmdGift, "хочу подарить": CmdGift, "перевести баллы": CmdGift,
		"подарок другу": CmdGift, "gift points to a friend": CmdGift, "send points": CmdGift, "подарит": CmdGift,
		// history
		"история": CmdHistory, "история операций": CmdHistory, "последние начисления": CmdHistory, "мои списания": CmdHistory,
		"transaction history": CmdHistory, "recent activity": CmdHistory,
		// support
		"оператор": CmdSupport, "позовите оператора": CmdSupport, "нужен живой человек": CmdSupport, "помогите пожалуйста": CmdSupport,
		"talk to a human": CmdSupport, "support": CmdSupport,
		// settings, language, help
		"настройки": CmdSettings, "добавить номер": CmdSettings, "сменить язык": CmdLanguage, "switch to English": CmdLanguage,
		"language": CmdLanguage, "помощь": CmdHelp, "что ты умеешь?": CmdHelp, "help": CmdHelp,
		// cancel, menu, greetings
		"отмена": CmdCancel, "стоп": CmdCancel, "хватит": CmdCancel, "cancel": CmdCancel,
		"меню": CmdMenu, "главное меню": CmdMenu, "привет": CmdStart, "Здравствуйте!": CmdStart, "добрый день": CmdStart,
		"hello": CmdStart, "hi there": CmdStart,
		// nothing to guess
		"как дела": "", "погода в Москве": "", "купить слона": "", "ok": "", "спасибо": "", "asdfgh": "", "🙂": "",
		"thanks": "", "what time is it": "", "кот": "",
	}
	if n := len(tests); n < 60 {
		t.Fatalf("only %d phrasings; the table promises at least 60", n)
	}
	for text, want := range tests {
		if got := intentOf(text); got != want {
			t.Errorf("intentOf(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestWithinOneEdit(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want bool
	}{{"баланс", "балланс", true}, {"баланс", "баланз", true}, {"баланс", "балан", true}, {"баланс", "блнс", false},
		{"каталог", "катлог", true}, {"abcde", "edcba", false}, {"same", "same", true}} {
		if got := withinOneEdit([]rune(tt.a), []rune(tt.b)); got != tt.want {
			t.Errorf("withinOneEdit(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// A catalogue code typed with a leading zero, as USSD menus print it, is the item: «022» is 22.
func TestItemCodeWithALeadingZero(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"022", "22", "*111*455*22#", " 0022 "} {
		_, outs := Handle(linked(), Input{Text: text, At: at})
		if len(outs) != 1 || outs[0].Do == nil || outs[0].Do.Kind != EffItem || outs[0].Do.Code != "22" {
			t.Errorf("Handle(%q) = %+v, want the item 22 looked up", text, outs)
		}
	}
	if _, outs := Handle(linked(), Input{Text: "000", At: at}); firstID(outs) != "unknown.hint" {
		t.Errorf("Handle(\"000\") = %s, want the hint", firstID(outs))
	}
}
