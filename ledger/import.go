package ledger

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"bonusbot/ledger/csvrows"
)

// AccrualColumns are the columns of an accrual CSV file, which starts with a header row naming them.
// amount is roubles ("500.00"); points is a fixed award; give one of them (or neither for a category
// with a fixed award, such as referral). occurred_at is RFC 3339.
var AccrualColumns = []string{"id", "phone", "category", "amount", "points", "occurred_at"}

// importChunk is how many rows one import transaction applies: it bounds the account locks held at
// once (a chunk commits in well under a second) and the memory a chunk takes.
const importChunk = 20_000

// importWorkers is how many chunks apply at once, on disjoint sets of phones: one more than the cores
// of the machine the programme targets, so that one worker's Go work (deciding, building COPY text)
// overlaps the others' database work. Chunks of the same account in two parts wait for each other's locks.
const importWorkers = 3

// ImportSummary is what ImportAccruals did.
type ImportSummary struct {
	Rows       int   // data rows read
	Accepted   int   // events applied
	Duplicates int   // ids seen before with the same content (in the ledger or earlier in the file)
	Enrolled   int   // phones that got a new account
	Points     int64 // awarded by the accepted events
	Rejected   []ImportError
}

// ImportError is a row that was skipped. Err wraps the refusal Accrue would give (ErrInvalidEvent,
// ErrInvalidPhone, ErrInvalidAmount, ErrUnknownCategory, ErrEventConflict, ErrAccountBlocked).
type ImportError struct {
	Line int
	ID   string
	Err  error
}

func (e ImportError) Error() string {
	if e.ID == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d: id %q: %v", e.Line, e.ID, e.Err)
}

// ImportAccruals applies a CSV file of accruals (AccrualColumns) through Accrue's own code, each
// phone's rows in file order, in chunks of importChunk rows: one transaction each, importWorkers chunks
// at once on disjoint sets of phones. So it writes exactly what Accrue would (billing events, lots, one
// journal transaction per event, new accounts for unknown phones, debts paid first) and refuses the
// rows Accrue would refuse, reporting each with its line; of two rows with one id and different phones,
// which one wins is not defined (the other is a conflict). progress, if not nil, gets the number of
// rows done after each chunk commits.
//
// A failed import has committed the chunks before the failure; run it again: applied rows then count as
// duplicates. Each chunk holds its accounts' locks until it commits.
func (s *Store) ImportAccruals(ctx context.Context, r io.Reader, progress func(rows int)) (ImportSummary, error) {
	now := s.now()
	rd, err := csvrows.NewReader(r, AccrualColumns...)
	if err != nil {
		return ImportSummary{}, fmt.Errorf("import accruals: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// One goroutine parses; importWorkers apply chunks, each on its own share of the phones, so the
	// database works on both cores while the next chunks are parsed.
	parts := make([]chan stagedChunk, importWorkers)
	for i := range parts {
		parts[i] = make(chan stagedChunk, 1)
	}
	var fresh atomic.Bool // no chunk has met a recorded id yet
	fresh.Store(true)
	var (
		mu       sync.Mutex
		sum      ImportSummary
		firstErr error
		reported int // rows last passed to progress
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
	}
	wg.Go(func() {
		defer func() {
			for _, p := range parts {
				close(p)
			}
		}()
		if err := s.readChunks(ctx, rd, now, parts); err != nil {
			fail(err)
		}
	})
	for _, part := range parts {
		wg.Go(func() {
			for c := range part {
				var res ImportSummary
				if len(c.rows) > 0 && ctx.Err() == nil {
					cr, err := s.accrueChunk(ctx, c.rows, now, &fresh)
					if err != nil {
						fail(fmt.Errorf("rows to line %d: %w", c.rows[len(c.rows)-1].line, err))
						continue // drain, so the reader never blocks
					}
					res = summarise(c.rows, cr)
				}
				mu.Lock()
				sum.Rows += c.read
				sum.Accepted += res.Accepted
				sum.Duplicates += res.Duplicates
				sum.Enrolled += res.Enrolled
				sum.Points += res.Points
				sum.Rejected = append(sum.Rejected, c.rejected...)
				sum.Rejected = append(sum.Rejected, res.Rejected...)
				if progress != nil && firstErr == nil && sum.Rows > reported {
					reported = sum.Rows
					progress(sum.Rows)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(sum.Rejected, func(a, b ImportError) int { return cmp.Compare(a.Line, b.Line) })
	if firstErr != nil {
		return sum, fmt.Errorf("import accruals: %w", firstErr)
	}
	return sum, nil
}

// stagedChunk is a chunk of one part, with the rows read and refused since the chunk before it.
type stagedChunk struct {
	read     int
	rows     []stagedEvent
	rejected []ImportError
}

// readChunks parses rows and sends them to parts by phone, in chunks of importChunk good rows. A
// phone's rows stay in file order within its part. Each chunk carries the rows read and refused since
// the chunk before it, whatever their part, so every row is counted once.
func (s *Store) readChunks(ctx context.Context, rd *csvrows.Reader, now time.Time, parts []chan stagedChunk) error {
	phones := make(map[string]string) // raw → E.164: billing repeats numbers, and parsing one is slow
	pending := make([][]stagedEvent, len(parts))
	var read int
	var rejected []ImportError
	send := func(p int, counts bool) bool {
		c := stagedChunk{rows: pending[p]}
		if counts {
			c.read, c.rejected, read, rejected = read, rejected, 0, nil
		}
		pending[p] = make([]stagedEvent, 0, importChunk)
		select {
		case parts[p] <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var le *csvrows.LineError
		switch {
		case errors.As(err, &le):
			read++
			rejected = append(rejected, ImportError{Line: le.Line, Err: fmt.Errorf("%w: %v", ErrInvalidEvent, le.Err)})
			continue
		case err != nil:
			return err
		}
		read++
		st, err := stageRow(row, now, phones)
		if err != nil {
			rejected = append(rejected, ImportError{Line: row.Line, ID: row.Get("id"), Err: err})
			continue
		}
		p := partOf(st.phone, len(parts))
		pending[p] = append(pending[p], st)
		if len(pending[p]) == importChunk && !send(p, true) {
			return ctx.Err()
		}
	}
	// The last chunk sent carries the last counts, so progress reaches the total only at the very end.
	for p := range parts {
		last := p == len(parts)-1
		if (len(pending[p]) > 0 || (last && read > 0)) && !send(p, last) {
			return ctx.Err()
		}
	}
	return nil
}

// partOf spreads phones over n parts.
func partOf(phone string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(phone))
	return int(h.Sum32() % uint32(n))
}

// stageRow reads a CSV row into an event and stages it.
func stageRow(row csvrows.Row, now time.Time, phones map[string]string) (stagedEvent, error) {
	ev := Event{ID: row.Get("id"), Phone: row.Get("phone"), Category: row.Get("category")}
	if at := row.Get("occurred_at"); at != "" {
		var err error
		if ev.OccurredAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return stagedEvent{}, fmt.Errorf("%w: occurred_at %q is not RFC 3339", ErrInvalidEvent, at)
		}
	}
	if a := row.Get("amount"); a != "" {
		kop, err := ParseAmount(a)
		if err != nil {
			return stagedEvent{}, err
		}
		ev.Amount = &kop
	}
	if p := row.Get("points"); p != "" {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return stagedEvent{}, fmt.Errorf("%w: points %q is not a whole number", ErrInvalidEvent, p)
		}
		ev.Points = &n
	}
	st, err := stageEvent(ev, now, phones)
	st.line = int32(row.Line)
	return st, err
}

// accrueChunk applies a chunk of staged accruals in a transaction of its own, as bulk work. While
// *fresh holds, the chunk takes its ids for new without looking them up (accrueChunkTx's trustNew);
// the first chunk that meets a recorded id clears it and runs again, and so do the chunks after it:
// an import that replays a file looks its ids up from then on. fresh may be nil: always look up.
func (s *Store) accrueChunk(ctx context.Context, evs []stagedEvent, now time.Time, fresh *atomic.Bool) (chunkResult, error) {
	return withTx(ctx, s.pool, func(tx pgx.Tx) (chunkResult, error) {
		// A chunk's statements may take bulkTimeout. Their plans look costly (unnest of tens of
		// thousands of rows), and JIT would then spend more compiling than the statements run.
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d; SET LOCAL jit = off", bulkTimeout.Milliseconds())); err != nil {
			return chunkResult{}, fmt.Errorf("settings: %w", err)
		}
		trustNew := fresh != nil && fresh.Load()
		r, err := s.accrueChunkTx(ctx, tx, evs, now, trustNew)
		if trustNew && errors.Is(err, errRetry) {
			fresh.Store(false)
		}
		return r, err
	})
}

// summarise counts what a chunk did to the rows of an import.
func summarise(rows []stagedEvent, r chunkResult) ImportSummary {
	sum := ImportSummary{Enrolled: r.enrolled}
	for i, res := range r.results {
		switch {
		case r.errs[i] != nil:
			sum.Rejected = append(sum.Rejected, ImportError{Line: int(rows[i].line), ID: rows[i].id, Err: r.errs[i]})
		case res.Duplicate:
			sum.Duplicates++
		default:
			sum.Accepted++
			sum.Points += res.Points
		}
	}
	return sum
}
