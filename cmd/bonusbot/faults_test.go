package main

import (
	"context"
	"testing"
	"time"

	"bonusbot/ledger/ledgertest"
)

// TestFleetKill9: three replicas in webhook mode behind the fake Bot API, which spreads deliveries
// over them and delivers 5% of the updates twice; one replica is killed with SIGKILL mid-load. Nothing
// Telegram was told was handled is lost, no chat sees its answers out of order, every update is
// answered in the end, and the others stop on SIGTERM with exit status 0.
func TestFleetKill9(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetOptions{replicas: 3, users: 60, msgs: 4, duplicate: 0.05})
	f.send()
	f.waitAnswered(len(f.updates)/4, 2*time.Minute)
	f.replicas[1].kill()
	f.waitAnswered(-1, 3*time.Minute)
	o := f.outcome()
	t.Log(o)
	if o.lost != 0 || o.answeredLost != 0 || o.outOfOrder != 0 || o.other != 0 {
		t.Errorf("after kill -9: %v; want nothing lost, nothing out of order", o)
	}
	if o.handledTwice > 40 { // at most what the dead replica had in hand: max_connections
		t.Errorf("after kill -9: %d updates handled twice, want at most the dead replica's updates in hand", o.handledTwice)
	}
	f.stop()
	ledgertest.CheckInvariants(t, f.pool)
}

// TestFleetPostgresRestart: Postgres (a server of the test's own) stops mid-load and starts again.
// Meanwhile users are told the service is temporarily unavailable; it recovers by itself; billing's
// batches, resent until accepted, all apply once; the ledger invariants hold.
func TestFleetPostgresRestart(t *testing.T) {
	t.Parallel()
	pg := ledgertest.NewCluster(t)
	f := newFleet(t, fleetOptions{replicas: 3, users: 100, msgs: 6, duplicate: 0.05, databaseURL: pg.URL("bonusbot")})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ingested := make(chan int64, 1)
	go func() {
		total, err := f.ingest(ctx, 30, 20)
		if err != nil {
			t.Error(err)
		}
		ingested <- total
	}()
	f.send()
	f.waitAnswered(len(f.updates)/4, 2*time.Minute)
	pg.Stop("fast")
	f.waitUnavailable(10, time.Minute)
	pg.Start()
	f.waitAnswered(-1, 3*time.Minute)
	total := <-ingested
	o := f.outcome()
	t.Log(o)
	if o.unavailable == 0 || o.lost != 0 || o.outOfOrder != 0 || o.other != 0 {
		t.Errorf("across a Postgres restart: %v; want 'temporarily unavailable' meanwhile, nothing lost or out of order", o)
	}
	f.stop()
	ledgertest.CheckInvariants(t, f.pool)
	f.checkIngested(total)
}

// TestFleetRedisRestart: Redis (a server of the test's own, keeping nothing on disk) is killed
// mid-load and comes back empty. Meanwhile users are told the service is temporarily unavailable; the
// replicas recover by themselves.
func TestFleetRedisRestart(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fleetOptions{replicas: 3, users: 100, msgs: 6, duplicate: 0.05})
	f.send()
	f.waitAnswered(len(f.updates)/4, 2*time.Minute)
	f.redis.Kill()
	f.waitUnavailable(10, time.Minute)
	f.redis.Start()
	f.waitAnswered(-1, 3*time.Minute)
	o := f.outcome()
	t.Log(o)
	if o.unavailable == 0 || o.lost != 0 || o.outOfOrder != 0 || o.other != 0 {
		t.Errorf("across a Redis restart: %v; want 'temporarily unavailable' meanwhile, nothing lost or out of order", o)
	}
	f.stop()
	ledgertest.CheckInvariants(t, f.pool)
}

// TestFleetSoak: 2,000 users over three replicas, 5% of updates delivered twice, one replica killed
// with SIGKILL mid-load and started again.
func TestFleetSoak(t *testing.T) {
	t.Parallel()
	if !*soak {
		t.Skip("a long fault test: make soak")
	}
	f := newFleet(t, fleetOptions{replicas: 3, users: 2000, msgs: 3, duplicate: 0.05})
	f.send()
	f.waitAnswered(len(f.updates)/3, 5*time.Minute)
	f.replicas[2].kill()
	f.waitAnswered(len(f.updates)/2, 5*time.Minute)
	f.start(f.replicas[2])
	f.waitAnswered(-1, 10*time.Minute)
	o := f.outcome()
	t.Log(o)
	if o.lost != 0 || o.answeredLost != 0 || o.outOfOrder != 0 || o.other != 0 {
		t.Errorf("soak: %v; want nothing lost, nothing out of order", o)
	}
	f.stop()
	ledgertest.CheckInvariants(t, f.pool)
}
