package ledger

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyText builds rows in COPY's text format, for the bulk writes of a chunk: a big chunk's rows travel
// as one COPY per table, which Postgres takes several times faster than the same rows as an insert of
// unnested arrays, and building the text costs the client less than pgx's per-value encoding.
type copyText struct {
	b    []byte
	rows int
}

// newCopyText is a copyText for rows of about width bytes each.
func newCopyText(rows, width int) *copyText {
	return &copyText{b: make([]byte, 0, rows*width)}
}

func (c *copyText) int(v int64) {
	c.b = strconv.AppendInt(c.b, v, 10)
	c.b = append(c.b, '\t')
}

func (c *copyText) bool(v bool) {
	if v {
		c.b = append(c.b, 't', '\t')
	} else {
		c.b = append(c.b, 'f', '\t')
	}
}

func (c *copyText) null() { c.b = append(c.b, '\\', 'N', '\t') }

// text appends s, escaping what COPY's text format would read as a delimiter or an escape. Text in the
// ledger is valid UTF-8 without NUL bytes (checkEvent).
func (c *copyText) text(s string) {
	if strings.ContainsAny(s, "\\\t\n\r") {
		for i := 0; i < len(s); i++ {
			switch ch := s[i]; ch {
			case '\\':
				c.b = append(c.b, '\\', '\\')
			case '\t':
				c.b = append(c.b, '\\', 't')
			case '\n':
				c.b = append(c.b, '\\', 'n')
			case '\r':
				c.b = append(c.b, '\\', 'r')
			default:
				c.b = append(c.b, ch)
			}
		}
	} else {
		c.b = append(c.b, s...)
	}
	c.b = append(c.b, '\t')
}

// textOrEmpty appends s, or NULL for an empty string.
func (c *copyText) textOrEmpty(s string) {
	if s == "" {
		c.null()
		return
	}
	c.text(s)
}

func (c *copyText) textOrNull(s *string) {
	if s == nil {
		c.null()
		return
	}
	c.text(*s)
}

func (c *copyText) intOrNull(v *int64) {
	if v == nil {
		c.null()
		return
	}
	c.int(*v)
}

// date appends t's calendar date (a lot's date is midnight UTC).
func (c *copyText) date(t time.Time) {
	y, m, d := t.Date()
	c.b = appendDigits(c.b, y, 4)
	c.b = append(c.b, '-')
	c.b = appendDigits(c.b, int(m), 2)
	c.b = append(c.b, '-')
	c.b = appendDigits(c.b, d, 2)
	c.b = append(c.b, '\t')
}

func (c *copyText) dateOrNull(t *time.Time) {
	if t == nil {
		c.null()
		return
	}
	c.date(*t)
}

// timestamp appends t as an ISO 8601 instant in UTC, to the microsecond (Postgres' precision).
func (c *copyText) timestamp(t time.Time) {
	t = t.UTC()
	c.b = t.AppendFormat(c.b, "2006-01-02T15:04:05.999999Z")
	c.b = append(c.b, '\t')
}

// end ends a row.
func (c *copyText) end() {
	c.b[len(c.b)-1] = '\n'
	c.rows++
}

func appendDigits(b []byte, v, width int) []byte {
	var buf [8]byte
	i := len(buf)
	for ; v > 0 || i > len(buf)-width; v /= 10 {
		i--
		buf[i] = byte('0' + v%10)
	}
	return append(b, buf[i:]...)
}

// send COPYs the rows into table's columns, in tx.
func (c *copyText) send(ctx context.Context, tx pgx.Tx, table string, columns ...string) error {
	if c.rows == 0 {
		return nil
	}
	sql := "COPY " + table + " (" + strings.Join(columns, ", ") + ") FROM STDIN"
	tag, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(c.b), sql)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != int64(c.rows) {
		return fmt.Errorf("copy %s: %d of %d rows", table, tag.RowsAffected(), c.rows)
	}
	return nil
}
