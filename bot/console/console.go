// Package console is the terminal channel: the dialogs in a terminal, as one subscriber, for a
// newcomer trying the bot (`make run` without a Telegram token) and for operators (`bonusbot chat`).
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"bonusbot/dialogs"
	"bonusbot/ledger"
)

// Console is the terminal channel. Buttons are numbered: "#2" presses the second one; "#contact"
// shares the subscriber's own number.
type Console struct {
	engine  Engine
	texts   Texts
	log     *slog.Logger
	userID  int64
	phone   string
	out     io.Writer
	buttons []string
}

// Channel is the console's name in channel links.
const Channel = "console"

// Engine answers one input (*dialogs.Engine).
type Engine interface {
	Handle(ctx context.Context, in dialogs.Input) (dialogs.Reply, error)
}

// Members finds and links the console's subscriber (*ledger.Store).
type Members interface {
	FirstMember(ctx context.Context) (string, error)
	Link(ctx context.Context, l ledger.Link) (ledger.Link, error)
}

// Texts words the replies (*locales.Catalog).
type Texts interface {
	Render(lang string, t dialogs.Text) string
	Say(lang string, lines []dialogs.Text) string
}

// New links the console user for phone ("" = the first member) to its account, without a one-time
// code: the console is an operator's tool, trusted like psql.
func New(ctx context.Context, store Members, engine Engine, texts Texts, log *slog.Logger, phone string, out io.Writer) (*Console, error) {
	var err error
	if phone == "" {
		if phone, err = store.FirstMember(ctx); err != nil {
			return nil, fmt.Errorf("chat: no subscribers yet: run `bonusbot seed --demo` or pass --phone (%w)", err)
		}
	}
	if phone, err = ledger.ParsePhone(phone); err != nil {
		return nil, fmt.Errorf("chat: --phone: %w", err)
	}
	// One console user per subscriber: its id is the number's digits, so each keeps its own dialog.
	id, _ := strconv.ParseInt(strings.TrimPrefix(phone, "+"), 10, 64)
	if _, err := store.Link(ctx, ledger.Link{Channel: Channel, UserID: id, ChatID: id, Phone: phone}); err != nil {
		return nil, fmt.Errorf("chat: %s: %w", ledger.FormatPhone(phone), err)
	}
	return &Console{engine: engine, texts: texts, log: log, userID: id, phone: phone, out: out}, nil
}

// Run reads lines until EOF or ctx ends; EOF ends the console only.
func (c *Console) Run(ctx context.Context, r io.Reader) error {
	fmt.Fprintf(c.out, "%s\n%s\n", c.texts.Render("ru", dialogs.T("console.greeting")), ledger.FormatPhone(c.phone))
	c.handle(ctx, dialogs.Input{Command: dialogs.CmdMenu})
	lines := make(chan string)
	errc := make(chan error, 1)
	var reader sync.WaitGroup
	reader.Go(func() { // a goroutine, so ctx can end the console while a read blocks
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		errc <- sc.Err()
	})
	for {
		fmt.Fprint(c.out, "> ")
		select {
		case <-ctx.Done():
			// A pipe takes a deadline, which ends the blocked read: wait for the reader. A terminal in
			// Go's blocking mode does not (making it non-blocking would change it for the shell too):
			// its read ends with the process, which is exiting.
			if f, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok && f.SetReadDeadline(time.Now()) == nil {
				reader.Wait()
			}
			return nil
		case err := <-errc:
			fmt.Fprintln(c.out)
			return err
		case line := <-lines:
			if strings.TrimSpace(line) != "" {
				c.handle(ctx, c.input(strings.TrimSpace(line)))
			}
		}
	}
}

func (c *Console) input(line string) dialogs.Input {
	switch {
	case strings.HasPrefix(line, "/"):
		cmd, _, _ := strings.Cut(strings.TrimPrefix(line, "/"), " ")
		return dialogs.Input{Command: strings.ToLower(cmd)}
	case line == "#contact":
		return dialogs.Input{Contact: &dialogs.Contact{Phone: c.phone, UserID: c.userID}}
	case strings.HasPrefix(line, "#"):
		if n, err := strconv.Atoi(line[1:]); err == nil && n >= 1 && n <= len(c.buttons) {
			return dialogs.Input{Data: c.buttons[n-1]}
		}
	}
	return dialogs.Input{Text: line}
}

// handle answers one line. Like the Telegram channel it survives a panicking step: it logs it and says
// the apology every channel says for a fault of ours.
func (c *Console) handle(ctx context.Context, in dialogs.Input) {
	defer func() {
		if r := recover(); r != nil {
			c.log.ErrorContext(ctx, "console input panicked", "panic", r)
			fmt.Fprintln(c.out, c.texts.Render("ru", dialogs.T("error.internal")))
		}
	}()
	in.Channel, in.UserID, in.ChatID = Channel, c.userID, c.userID
	reply, err := c.engine.Handle(ctx, in)
	if err != nil {
		c.log.ErrorContext(ctx, "console input failed", "err", err)
		fmt.Fprintln(c.out, c.texts.Render("ru", dialogs.T("error.internal")))
		return
	}
	c.print(reply)
}

func (c *Console) print(r dialogs.Reply) {
	var buttons []string
	for _, o := range r.Outputs {
		if o.Toast != nil {
			fmt.Fprintf(c.out, "  (%s)\n", c.texts.Render(r.Lang, *o.Toast))
		}
		if len(o.Lines) > 0 {
			fmt.Fprintln(c.out, c.texts.Say(r.Lang, o.Lines))
		}
		for _, row := range o.Buttons {
			var labels []string
			for _, b := range row {
				buttons = append(buttons, b.Data)
				labels = append(labels, fmt.Sprintf("[#%d %s]", len(buttons), c.texts.Render(r.Lang, b.Label)))
			}
			fmt.Fprintln(c.out, "  "+strings.Join(labels, " "))
		}
		switch o.Keyboard {
		case dialogs.MenuKeyboard:
			var labels []string
			for _, row := range dialogs.MenuLabels {
				for _, id := range row {
					labels = append(labels, c.texts.Render(r.Lang, dialogs.T(id)))
				}
			}
			fmt.Fprintln(c.out, "  ⌨ "+strings.Join(labels, " · "))
		case dialogs.ContactKeyboard:
			fmt.Fprintf(c.out, "  ⌨ [#contact %s]\n", c.texts.Render(r.Lang, dialogs.T("keyboard.contact")))
		}
	}
	if len(buttons) > 0 {
		c.buttons = buttons
	}
}
