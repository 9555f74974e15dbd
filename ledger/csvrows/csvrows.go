// Package csvrows reads CSV files that have a header row, by column name, and says which line of the
// file each row or problem came from, so an import can skip a bad row and tell the operator where it is.
package csvrows

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// LineError is a row the reader could not use. The reader can go on after it: call Next again.
type LineError struct {
	Line int // 1-based line of the file where the row starts
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Reader reads rows by column name. The header must name every wanted column (in any order, any case,
// surrounding spaces and a UTF-8 byte-order mark ignored) but those marked optional with a trailing
// "?" ("how_to_ru?"), which read as empty when absent; other columns are ignored.
type Reader struct {
	csv   *csv.Reader
	index map[string]int // wanted column → position in the file
	width int            // fields per row, as in the header
}

// NewReader reads the header of r. It fails if the file is empty or the header lacks a wanted column.
func NewReader(r io.Reader, columns ...string) (*Reader, error) {
	c := csv.NewReader(r)
	c.FieldsPerRecord = -1 // Next checks the width itself, so a short row is a LineError, not the end
	c.ReuseRecord = true
	c.TrimLeadingSpace = true
	header, err := c.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("csv: empty file, want a header row")
	}
	if err != nil {
		return nil, fmt.Errorf("csv: header: %w", err)
	}
	seen := make(map[string]int, len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")))
		if _, dup := seen[name]; dup && name != "" {
			return nil, fmt.Errorf("csv: header: column %q appears twice", name)
		}
		seen[name] = i
	}
	rd := &Reader{csv: c, index: make(map[string]int, len(columns)), width: len(header)}
	var missing []string
	for _, col := range columns {
		name, optional := strings.CutSuffix(col, "?")
		i, ok := seen[name]
		switch {
		case ok:
			rd.index[name] = i
		case optional:
			rd.index[name] = -1
		default:
			missing = append(missing, col)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("csv: header: missing column(s) %s (want %s)",
			strings.Join(missing, ", "), strings.Join(columns, ","))
	}
	return rd, nil
}

// Row is one data row. It is valid until the next call to Next.
type Row struct {
	Line   int
	fields []string
	index  map[string]int
}

// Get is the value of a wanted column, without surrounding spaces.
func (r Row) Get(column string) string {
	i, ok := r.index[column]
	if !ok {
		panic(fmt.Sprintf("csvrows: column %q was not asked for in NewReader", column))
	}
	if i < 0 { // an optional column the file does not have
		return ""
	}
	return strings.TrimSpace(r.fields[i])
}

// Next returns the next row. At the end it returns io.EOF. A row it cannot use comes back as a
// *LineError, after which reading may go on; any other error is fatal. Blank lines are skipped.
func (rd *Reader) Next() (Row, error) {
	fields, err := rd.csv.Read()
	if errors.Is(err, io.EOF) {
		return Row{}, io.EOF
	}
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return Row{}, &LineError{Line: perr.StartLine, Err: perr.Err}
	}
	if err != nil {
		return Row{}, fmt.Errorf("csv: %w", err)
	}
	line, _ := rd.csv.FieldPos(0)
	if len(fields) != rd.width {
		return Row{}, &LineError{Line: line, Err: fmt.Errorf("%d fields, want %d as in the header", len(fields), rd.width)}
	}
	return Row{Line: line, fields: fields, index: rd.index}, nil
}

// Each calls use for every row it can read. A row the reader cannot use, or that use refuses with an
// error, is skipped and listed in skipped as "line N: reason"; a file that cannot be read at all stops
// it with err.
func (rd *Reader) Each(use func(Row) error) (skipped []string, err error) {
	for {
		row, err := rd.Next()
		var le *LineError
		switch {
		case errors.Is(err, io.EOF):
			return skipped, nil
		case errors.As(err, &le):
			skipped = append(skipped, le.Error())
		case err != nil:
			return skipped, err
		default:
			if err := use(row); err != nil {
				skipped = append(skipped, fmt.Sprintf("line %d: %v", row.Line, err))
			}
		}
	}
}
