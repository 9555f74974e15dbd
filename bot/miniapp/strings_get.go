package miniapp

import (
	"net/http"

	"bonusbot/dialogs"
)

// pageStrings are the message ids the page shows as they are: its own ("app."), and the chat's menu
// labels and language names, so both channels say the same words.
var pageStrings = []string{"app.", "menu.", "language.name."}

type stringsResponse struct {
	Lang    string            `json:"lang"`
	Strings map[string]string `json:"strings"`
}

// getStrings is every fixed text of the page in ?lang= (a language code such as "ru" or "en-GB",
// matched as the chat matches Telegram's). It needs no launch data: the page shows its first words
// before it knows who opened it, and nothing here is private.
func (h *Handler) getStrings(w http.ResponseWriter, r *http.Request) {
	lang := dialogs.PickLang(r.URL.Query().Get("lang"))
	h.writeJSON(w, r, http.StatusOK, stringsResponse{Lang: lang, Strings: h.texts.Strings(lang, pageStrings...)})
}
