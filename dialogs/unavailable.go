package dialogs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable marks a failure of Postgres or Redis that is nobody's mistake and passes by itself:
// a server down, restarting, failing over, unreachable or too slow. The Engine gives up such an update
// without saving anything, so the user may simply repeat it, and the channel says the service is
// temporarily unavailable (error.unavailable) rather than apologising for a fault.
var ErrUnavailable = errors.New("dialogs: temporarily unavailable")

// Unavailable says whether err is such a failure. It knows Postgres's errors by their SQLSTATE, so
// this package needs no pgx.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	for _, e := range []error{ErrUnavailable, context.DeadlineExceeded, io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
		redis.ErrPoolTimeout, syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE} {
		if errors.Is(err, e) {
			return true
		}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var pg interface{ SQLState() string } // *pgconn.PgError
	if errors.As(err, &pg) {
		code := pg.SQLState()
		// 08: connection exception; 57P01-03: admin or crash shutdown, cannot connect now (starting up);
		// 53300: too many connections.
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
	}
	var safe interface{ SafeToRetry() bool } // pgconn: the statement never reached the server
	if errors.As(err, &safe) && safe.SafeToRetry() {
		return true
	}
	for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY"} { // restarts, failovers
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// unavailable marks err with ErrUnavailable when it is such a failure.
func unavailable(err error) error {
	if err != nil && !errors.Is(err, ErrUnavailable) && Unavailable(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
