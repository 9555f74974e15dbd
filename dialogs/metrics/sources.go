package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolStats is a snapshot of a Postgres pool (pgxpool.Stat), copied by the caller so that this
// package needs no database driver.
type PoolStats struct {
	Acquired, Idle, Total, Max int32
	Acquires, EmptyAcquires    int64 // EmptyAcquires: acquires that had to wait for a connection
	CanceledAcquires           int64
	AcquireWait                time.Duration // summed over all acquires
}

var (
	poolConns    = prometheus.NewDesc("bonusbot_pg_pool_connections", "Postgres pool connections, by state (acquired, idle, total).", []string{"state"}, nil)
	poolMax      = prometheus.NewDesc("bonusbot_pg_pool_max_connections", "The Postgres pool's size limit.", nil, nil)
	poolAcquires = prometheus.NewDesc("bonusbot_pg_pool_acquires_total", "Connections taken from the pool.", nil, nil)
	poolEmpty    = prometheus.NewDesc("bonusbot_pg_pool_empty_acquires_total", "Acquires that found no idle connection and waited.", nil, nil)
	poolCanceled = prometheus.NewDesc("bonusbot_pg_pool_canceled_acquires_total", "Acquires given up because their context ended.", nil, nil)
	poolWait     = prometheus.NewDesc("bonusbot_pg_pool_acquire_wait_seconds_total", "Time spent waiting for pool connections.", nil, nil)
)

type poolCollector struct{ stat func() PoolStats }

// Pool is a collector of a Postgres pool's stats, read at every scrape.
func Pool(stat func() PoolStats) prometheus.Collector { return poolCollector{stat} }

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolMax, poolAcquires, poolEmpty, poolCanceled, poolWait} {
		ch <- d
	}
}

func (p poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.stat()
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.Acquired), "acquired")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.Idle), "idle")
	ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.Total), "total")
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.Max))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.Acquires))
	ch <- prometheus.MustNewConstMetric(poolEmpty, prometheus.CounterValue, float64(s.EmptyAcquires))
	ch <- prometheus.MustNewConstMetric(poolCanceled, prometheus.CounterValue, float64(s.CanceledAcquires))
	ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, s.AcquireWait.Seconds())
}

// QueueCount is how many of River's jobs wait in one queue and state.
type QueueCount struct {
	Queue, State string
	Jobs         int64
}

// DBState is what a scrape reads from the database: River's backlog, the last finished sweep and the
// support group's outbox. Every replica reports the same values, so dashboards take max() across replicas.
type DBState struct {
	Queues    []QueueCount
	LastSweep time.Time // the finish of the latest daily expiry sweep; zero: none yet
	// The support outbox: posts waiting for the group, the oldest's time (zero: none waits), and posts
	// that failed for good.
	SupportPending, SupportFailed int64
	SupportOldest                 time.Time
}

var (
	dbUp          = prometheus.NewDesc("bonusbot_metrics_db_up", "1 if the scrape could read the database state below, else 0.", nil, nil)
	queueJobs     = prometheus.NewDesc("bonusbot_river_queue_jobs", "River jobs not yet finished, by queue and state (available, scheduled, retryable, running).", []string{"queue", "state"}, nil)
	lastSweep     = prometheus.NewDesc("bonusbot_expiry_sweep_last_success_timestamp_seconds", "Unix time the latest daily expiry sweep finished (0: never).", nil, nil)
	supportPosts  = prometheus.NewDesc("bonusbot_support_outbox_posts", "Posts for the support group in the outbox, by state (pending: waiting; failed: refused by Telegram for good).", []string{"state"}, nil)
	supportOldest = prometheus.NewDesc("bonusbot_support_outbox_oldest_pending_timestamp_seconds", "Unix time the oldest waiting post for the support group was queued (0: none waits).", nil, nil)
	dbDeadline    = 2 * time.Second
)

type dbCollector struct {
	read func(context.Context) (DBState, error)
}

// Database is a collector that calls read at every scrape, within 2 s. When read fails it reports
// bonusbot_metrics_db_up 0 and nothing else of its own.
func Database(read func(context.Context) (DBState, error)) prometheus.Collector {
	return dbCollector{read}
}

func (dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dbUp
	ch <- queueJobs
	ch <- lastSweep
	ch <- supportPosts
	ch <- supportOldest
}

func (d dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), dbDeadline)
	defer cancel()
	s, err := d.read(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(dbUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(dbUp, prometheus.GaugeValue, 1)
	for _, q := range s.Queues {
		ch <- prometheus.MustNewConstMetric(queueJobs, prometheus.GaugeValue, float64(q.Jobs), q.Queue, q.State)
	}
	ch <- prometheus.MustNewConstMetric(lastSweep, prometheus.GaugeValue, unixSeconds(s.LastSweep))
	ch <- prometheus.MustNewConstMetric(supportPosts, prometheus.GaugeValue, float64(s.SupportPending), "pending")
	ch <- prometheus.MustNewConstMetric(supportPosts, prometheus.GaugeValue, float64(s.SupportFailed), "failed")
	ch <- prometheus.MustNewConstMetric(supportOldest, prometheus.GaugeValue, unixSeconds(s.SupportOldest))
}

// unixSeconds is t as a Prometheus timestamp value; the zero time is 0 ("never").
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
