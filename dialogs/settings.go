package dialogs

// Settings: language, expiry warnings, a second phone for the account, unlinking.

func settings() Output {
	return Say(T("settings.title")).
		WithButtons(Button{T("button.language"), cb(cbLanguages)}).
		WithButtons(Button{T("button.warnings"), cb(cbWarningsAsk)}).
		WithButtons(Button{T("button.add_phone"), cb(cbAddPhone)}).
		WithButtons(Button{T("button.unlink_ask"), cb(cbUnlinkAsk)})
}

func languageChoice() Output {
	return Say(T("language.choose")).WithButtons(
		Button{T("language.name.ru"), cb(cbLanguage, "ru")}, Button{T("language.name.en"), cb(cbLanguage, "en")})
}

func setLanguage(s State, c Callback) (State, []Output) {
	lang := c.Args[0]
	if lang != "ru" && lang != "en" {
		return stale(s)
	}
	return s, []Output{do(Effect{Kind: EffSetLang, Lang: lang, Then: langSet})}
}

// langSet continues EffSetLang; the Engine has stored the language (on the link, or in the State).
func langSet(s State, in Input) (State, []Output) {
	if in.Result.Err != nil {
		return s, []Output{refuse(in.Result.Err, KeepKeyboard)}
	}
	kb := MenuKeyboard
	if !s.Linked() {
		kb = ContactKeyboard
	}
	return s, []Output{Say(T("language.set")).WithKeyboard(kb)}
}

// unlinkDone continues EffUnlink.
func unlinkDone(s State, in Input) (State, []Output) {
	if in.Result.Err != nil {
		return s, []Output{refuse(in.Result.Err, MenuKeyboard)}
	}
	return State{Lang: s.Lang}, []Output{Say(T("unlink.done")).WithKeyboard(ContactKeyboard)}
}
