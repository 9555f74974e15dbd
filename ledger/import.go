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
	"time"

	"github.com/jackc/pgx/v5"

	"bonusbot/ledger/csvrows"
)

// AccrualColumns are the columns of an accrual CSV file, which starts with a header row naming them.
// amount is roubles ("500.00"); points is a fixed award; give one of them (or neither for a category
// with a fixed award, such as referral). occurred_at is RFC 3339.
var AccrualColumns = []string{"id", "phone", "category", "amount", "points", "occurred_at"}

// importChunk is how many rows one import transaction applies: it bounds the account locks held at
// once (a chunk of 50,000 commits in well under a second) and the memory a chunk takes.
const importChunk = 50_000

// importWorkers is how many chunks apply at once, on disjoint sets of phones: one per core of the
// machine the programme targets. Chunks of the same account in two parts wait for each other's locks.
const importWorkers = 2

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

// ImportAccruals applies a CSV file of accruals (AccrualColumns) with the semantics of Accrue, each
// phone's rows in file order, but set-based: chunks of rows are COPYed into a temporary table and
// applied by a few statements per transaction, importWorkers chunks at once on disjoint sets of phones.
// It writes exactly what Accrue would (billing events, lots, one journal transaction per event, new
// accounts for unknown phones); a row whose account owes debt goes through Accrue's own code so the
// debt is paid off first. Bad rows are skipped and reported with their line, as Accrue would refuse
// them; of two rows with one id and different phones, which one wins is not defined (the other is a
// conflict, whose phone may still be enrolled). progress, if not nil, gets the number of rows done after each chunk commits.
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
					var err error
					var cr chunkResult
					cr, err = withTx(ctx, s.pool, func(tx pgx.Tx) (chunkResult, error) {
						return s.importChunkTx(ctx, tx, c.rows, now, false)
					})
					res = cr.ImportSummary
					if err != nil {
						fail(fmt.Errorf("rows to line %d: %w", c.rows[len(c.rows)-1].line, err))
						continue // drain, so the reader never blocks
					}
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

// stagedRow is a row that passed every check that needs no database, normalised as Accrue stores it.
type stagedRow struct {
	line           int32
	id, phone, cat string
	amount, points *int64
	occurredAt     time.Time
	expiresOn      time.Time
	expired        bool // bornExpired
}

// stagedChunk is a chunk of one part, with the rows read and refused since the chunk before it.
type stagedChunk struct {
	read     int
	rows     []stagedRow
	rejected []ImportError
}

// readChunks parses rows and sends them to parts by phone, in chunks of importChunk good rows. A
// phone's rows stay in file order within its part. Each chunk carries the rows read and refused since
// the chunk before it, whatever their part, so every row is counted once.
func (s *Store) readChunks(ctx context.Context, rd *csvrows.Reader, now time.Time, parts []chan stagedChunk) error {
	phones := make(map[string]string) // raw → E.164: billing repeats numbers, and parsing one is slow
	pending := make([][]stagedRow, len(parts))
	var read int
	var rejected []ImportError
	send := func(p int, counts bool) bool {
		c := stagedChunk{rows: pending[p]}
		if counts {
			c.read, c.rejected, read, rejected = read, rejected, 0, nil
		}
		pending[p] = make([]stagedRow, 0, importChunk)
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
		st, err := s.stageRow(row, now, phones)
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
func (s *Store) stageRow(row csvrows.Row, now time.Time, phones map[string]string) (stagedRow, error) {
	ev := Event{ID: row.Get("id"), Phone: row.Get("phone"), Category: row.Get("category")}
	if at := row.Get("occurred_at"); at != "" {
		var err error
		if ev.OccurredAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return stagedRow{}, fmt.Errorf("%w: occurred_at %q is not RFC 3339", ErrInvalidEvent, at)
		}
	}
	if a := row.Get("amount"); a != "" {
		kop, err := ParseAmount(a)
		if err != nil {
			return stagedRow{}, err
		}
		ev.Amount = &kop
	}
	if p := row.Get("points"); p != "" {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return stagedRow{}, fmt.Errorf("%w: points %q is not a whole number", ErrInvalidEvent, p)
		}
		ev.Points = &n
	}
	return s.stageEvent(int32(row.Line), ev, now, phones)
}

// stageEvent makes the checks accrueTx makes before it touches the database (checkEvent), with the
// same refusals, and normalises the event as Accrue stores it. phones caches ParsePhone: billing repeats numbers,
// and parsing one is slow.
func (s *Store) stageEvent(line int32, ev Event, now time.Time, phones map[string]string) (stagedRow, error) {
	st := stagedRow{line: line, id: ev.ID, cat: ev.Category, amount: ev.Amount, points: ev.Points, occurredAt: ev.OccurredAt}
	if err := checkEvent(ev, now); err != nil {
		return st, err
	}
	if st.phone = phones[ev.Phone]; st.phone == "" {
		var err error
		if st.phone, err = ParsePhone(ev.Phone); err != nil {
			return st, err
		}
		if len(phones) > 1_000_000 {
			clear(phones) // bound the memory; a cache miss only costs time
		}
		phones[ev.Phone] = st.phone
	}
	st.expiresOn = s.ExpiryFor(st.occurredAt)
	st.expired = s.bornExpired(st.occurredAt, now) // refused in SQL unless the id is a replay, as in accrueTx
	return st, nil
}
