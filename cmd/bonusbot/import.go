package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"bonusbot/ledger"
	"bonusbot/ledger/csvrows"
)

// runImport is `bonusbot import accruals|catalog|promocodes FILE.csv`: it prints progress, every
// skipped row with its line, and a summary. Skipped rows do not make it fail; a file it cannot read does.
func runImport(ctx context.Context, cfg Config, log *slog.Logger, args []string) error {
	if len(args) != 2 || (args[0] != "accruals" && args[0] != "catalog" && args[0] != "promocodes") {
		return errUsage
	}
	f, err := os.Open(args[1])
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	pool, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := ledger.NewStore(pool, ledger.Options{Location: cfg.Location, Expiry: cfg.Expiry})
	log.Info("import", "kind", args[0], "file", args[1])
	switch args[0] {
	case "catalog":
		_, err = importCatalog(ctx, store, f, os.Stdout)
		return err
	case "promocodes":
		_, err = importPromoCodes(ctx, store, f, os.Stdout)
		return err
	}
	_, err = importAccruals(ctx, store, f, os.Stdout)
	return err
}

func importAccruals(ctx context.Context, store *ledger.Store, r io.Reader, out io.Writer) (ledger.ImportSummary, error) {
	start := time.Now()
	sum, err := store.ImportAccruals(ctx, r, func(rows int) {
		fmt.Fprintf(out, "%d rows done (%.0f rows/s)\n", rows, float64(rows)/time.Since(start).Seconds())
	})
	for _, rej := range sum.Rejected {
		fmt.Fprintln(out, "skipped", rej.Error())
	}
	elapsed := time.Since(start)
	fmt.Fprintf(out, "accruals: %d rows in %s (%.0f rows/s): %d accepted, %d duplicates, %d skipped; %d new members, %d points awarded\n",
		sum.Rows, elapsed.Round(time.Millisecond), float64(sum.Rows)/elapsed.Seconds(),
		sum.Accepted, sum.Duplicates, len(sum.Rejected), sum.Enrolled, sum.Points)
	return sum, err
}

// catalogColumns are the columns of a catalogue CSV. stock is empty for unlimited; active is
// true/false (yes/no, 1/0), empty meaning true; how_to_ru and how_to_en, optional, say how to use the
// reward once it is redeemed.
var catalogColumns = []string{"code", "category", "title_ru", "title_en", "cost", "stock", "active", "how_to_ru?", "how_to_en?"}

// catalogSummary is what a catalogue import did.
type catalogSummary struct {
	Items    int
	Rejected []string // "line N: reason"
}

// importCatalog upserts the catalogue in r, by code, in one transaction; bad rows are skipped and
// reported with their line.
func importCatalog(ctx context.Context, store *ledger.Store, r io.Reader, out io.Writer) (catalogSummary, error) {
	rd, err := csvrows.NewReader(r, catalogColumns...)
	if err != nil {
		return catalogSummary{}, fmt.Errorf("import catalog: %w", err)
	}
	var (
		sum   catalogSummary
		items []ledger.Item
		lines = map[string]int{} // code → line it was first seen on
	)
	sum.Rejected, err = rd.Each(func(row csvrows.Row) error {
		it, err := parseItem(row)
		if err == nil && lines[it.Code] != 0 {
			err = fmt.Errorf("code %q already on line %d", it.Code, lines[it.Code])
		}
		if err != nil {
			return err
		}
		lines[it.Code] = row.Line
		items = append(items, it)
		return nil
	})
	if err != nil {
		return sum, fmt.Errorf("import catalog: %w", err)
	}
	for _, rej := range sum.Rejected {
		fmt.Fprintln(out, "skipped", rej)
	}
	if err := store.UpsertItems(ctx, items); err != nil {
		return sum, fmt.Errorf("import catalog: %w", err)
	}
	sum.Items = len(items)
	fmt.Fprintf(out, "catalog: %d items upserted, %d rows skipped\n", sum.Items, len(sum.Rejected))
	return sum, nil
}

func parseItem(row csvrows.Row) (ledger.Item, error) {
	it := ledger.Item{Code: row.Get("code"), Category: row.Get("category"), TitleRU: row.Get("title_ru"), TitleEN: row.Get("title_en"),
		HowToRU: row.Get("how_to_ru"), HowToEN: row.Get("how_to_en")}
	if it.Code == "" || it.Category == "" || it.TitleRU == "" || it.TitleEN == "" {
		return it, errors.New("code, category, title_ru and title_en are required")
	}
	cost, err := strconv.ParseInt(row.Get("cost"), 10, 64)
	if err != nil || cost <= 0 {
		return it, fmt.Errorf("cost %q: want a whole number of points above 0", row.Get("cost"))
	}
	it.Cost = cost
	if s := row.Get("stock"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return it, fmt.Errorf("stock %q: want empty (unlimited) or a whole number from 0", s)
		}
		it.Stock = &n
	}
	switch strings.ToLower(row.Get("active")) {
	case "", "true", "yes", "1":
		it.Active = true
	case "false", "no", "0":
	default:
		return it, fmt.Errorf("active %q: want true or false", row.Get("active"))
	}
	return it, nil
}

// importPromoCodes adds the promo codes in r (columns item_code,code) to their items' pools: each is
// given to one order only, and an item whose pool runs dry is out of stock. A row naming an item not
// in the catalogue stops the import before anything is added.
func importPromoCodes(ctx context.Context, store *ledger.Store, r io.Reader, out io.Writer) (int64, error) {
	rd, err := csvrows.NewReader(r, "item_code", "code")
	if err != nil {
		return 0, fmt.Errorf("import promo codes: %w", err)
	}
	var codes []ledger.PromoCode
	skipped, err := rd.Each(func(row csvrows.Row) error {
		c := ledger.PromoCode{Item: row.Get("item_code"), Code: row.Get("code")}
		if c.Item == "" || c.Code == "" {
			return errors.New("item_code and code are required")
		}
		codes = append(codes, c)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("import promo codes: %w", err)
	}
	for _, s := range skipped {
		fmt.Fprintln(out, "skipped", s)
	}
	added, err := store.ImportPromoCodes(ctx, codes)
	if err != nil {
		return 0, fmt.Errorf("import promo codes: %w", err)
	}
	fmt.Fprintf(out, "promo codes: %d added, %d already there, %d rows skipped\n", added, int64(len(codes))-added, len(skipped))
	return added, nil
}
