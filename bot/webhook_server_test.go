package bot

import (
	"context"
	"net/http"
	"testing"
)

// TestWebhookServerBoundsConnections: the webhook's listener faces the internet; a connection that
// trickles its headers or idles after an answer (a 401 to a stranger, say) is closed, not kept for good.
func TestWebhookServerBoundsConnections(t *testing.T) {
	t.Parallel()
	srv := webhookServer(context.Background(), http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.IdleTimeout <= 0 {
		t.Errorf("webhook server: ReadHeaderTimeout %v, IdleTimeout %v; want both set", srv.ReadHeaderTimeout, srv.IdleTimeout)
	}
	if srv.ReadTimeout != 0 || srv.WriteTimeout != 0 {
		t.Errorf("webhook server: ReadTimeout %v, WriteTimeout %v; want none (an answer waits for the handling)", srv.ReadTimeout, srv.WriteTimeout)
	}
}
