package deploy

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// knownMetrics are the metric names bonusbot exports (read from the metrics package's source, where
// each is declared once), with the series Prometheus derives from histograms, and the Go runtime's
// and process collectors' families.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "dialogs", "metrics", "*.go"))
	names := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		for _, m := range regexp.MustCompile(`"(bonusbot_[a-z0-9_]+)"`).FindAllStringSubmatch(readFile(t, f), -1) {
			names[m[1]] = true
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[m[1]+suffix] = true
			}
		}
	}
	if len(names) < 20 {
		t.Fatalf("found only %d metric names in dialogs/metrics/*.go", len(names))
	}
	return names
}

var metricName = regexp.MustCompile(`\b((?:bonusbot|go|process)_[a-z0-9_]+)`)

// checkExpr fails for a bonusbot_ name in expr that bonusbot does not export.
func checkExpr(t *testing.T, where, expr string, known map[string]bool) {
	t.Helper()
	found := false
	for _, m := range metricName.FindAllStringSubmatch(expr, -1) {
		found = true
		if strings.HasPrefix(m[1], "bonusbot_") && !known[m[1]] {
			t.Errorf("%s: %s is not a metric bonusbot exports (dialogs/metrics/*.go)", where, m[1])
		}
	}
	if !found {
		t.Errorf("%s: %q names no metric", where, expr)
	}
}

type ruleFile struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []struct {
			Alert       string            `json:"alert"`
			Expr        string            `json:"expr"`
			For         string            `json:"for"`
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"rules"`
	} `json:"groups"`
}

// TestAlertRules: the rules name real metrics, say how bad they are, and point to the README's
// runbook, which explains every one; promtool checks and unit-tests them where it is installed.
func TestAlertRules(t *testing.T) {
	dir := filepath.Join(root, "deploy", "monitoring")
	var rf ruleFile
	if err := decodeStrict([]byte(readFile(t, filepath.Join(dir, "alerts.yaml"))), &rf); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	known := knownMetrics(t)
	runbook := section(t, readFile(t, filepath.Join(root, "README.md")), "## Runbook")
	var alerts []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			where := "alerts.yaml " + r.Alert
			alerts = append(alerts, r.Alert)
			checkExpr(t, where, r.Expr, known)
			if sev := r.Labels["severity"]; sev != "page" && sev != "warning" {
				t.Errorf("%s: severity %q, want page or warning", where, sev)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", where)
			}
			if want := "README.md#" + strings.ToLower(r.Alert); r.Annotations["runbook"] != want {
				t.Errorf("%s: runbook %q, want %q", where, r.Annotations["runbook"], want)
			}
			if !strings.Contains(runbook, "\n#### "+r.Alert+"\n") {
				t.Errorf("%s: README.md's Runbook has no \"#### %s\" heading saying what it means", where, r.Alert)
			}
		}
	}
	for _, want := range []string{"BonusbotUpdatesFailing", "BonusbotTelegramRateLimited", "BonusbotQueueBacklog", "BonusbotSweepNotRunToday"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("alerts.yaml lacks %s", want)
		}
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (apt-get install prometheus): rules decoded and cross-checked, but not checked by promtool")
	}
	for _, args := range [][]string{{"check", "rules", "alerts.yaml"}, {"test", "rules", "alerts_test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestDashboard: the Grafana dashboard imports anywhere (its Prometheus is a variable) and every
// panel graphs metrics bonusbot exports; together they cover what the issue asks to watch.
func TestDashboard(t *testing.T) {
	var d dashboard
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(root, "deploy", "monitoring", "dashboard.json"))), &d); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	if d.UID == "" || d.Title == "" {
		t.Errorf("dashboard.json: uid %q title %q", d.UID, d.Title)
	}
	if !slices.ContainsFunc(d.Templating.List, func(v struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}) bool {
		return v.Name == "datasource" && v.Type == "datasource"
	}) {
		t.Error("dashboard.json: no datasource variable; panels would be tied to one Grafana's Prometheus")
	}
	known := knownMetrics(t)
	var all strings.Builder
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("dashboard.json: panel %q: want the ${datasource} variable and at least one query", p.Title)
		}
		for _, q := range p.Targets {
			checkExpr(t, "dashboard.json panel "+p.Title, q.Expr, known)
			all.WriteString(q.Expr + "\n")
		}
	}
	for _, family := range []string{"bonusbot_updates_total", "bonusbot_dialog_step_duration_seconds", "bonusbot_ledger_operations_total",
		"bonusbot_otp_events_total", "bonusbot_river_queue_jobs", "bonusbot_river_jobs_total", "bonusbot_telegram_api_calls_total",
		"bonusbot_sms_sends_total", "bonusbot_pg_pool_connections", "bonusbot_expiry_sweep_last_success_timestamp_seconds", "go_goroutines"} {
		if !strings.Contains(all.String(), family) {
			t.Errorf("dashboard.json graphs nothing of %s", family)
		}
	}
}
