package deploy

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// TestWebhookReplicas: the Kubernetes example runs serve as a service — three replicas in webhook
// mode behind a Service and an Ingress, scaled on CPU, never drained below two.
func TestWebhookReplicas(t *testing.T) {
	ms := loadManifests(t, filepath.Join(root, "deploy", "k8s"))
	rd := loadReadme(t)
	cm := only[corev1.ConfigMap](t, ms)
	dep := only[appsv1.Deployment](t, ms)
	c := dep.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	httpPort := portOf(t, "ConfigMap HTTP_ADDR", cm.Data["HTTP_ADDR"])

	if cm.Data["BOT_MODE"] != "webhook" {
		t.Fatalf("ConfigMap: BOT_MODE %q, want webhook (any replica takes Telegram's updates)", cm.Data["BOT_MODE"])
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 3 {
		t.Errorf("Deployment: want 3 replicas in webhook mode")
	}
	hook, err := url.Parse(cm.Data["WEBHOOK_URL"])
	if err != nil || hook.Scheme != "https" || hook.Host == "" || hook.Path == "" {
		t.Fatalf("ConfigMap: WEBHOOK_URL %q: want an https URL with a path", cm.Data["WEBHOOK_URL"])
	}
	addr := cm.Data["WEBHOOK_ADDR"]
	if addr == "" {
		addr = rd.vars["WEBHOOK_ADDR"]
	}
	if p := portOf(t, "WEBHOOK_ADDR", addr); ports["webhook"] != int32(p) {
		t.Errorf("Deployment: containerPort webhook %d, but WEBHOOK_ADDR is %q", ports["webhook"], addr)
	}
	if _, ok := only[corev1.Secret](t, ms).StringData["WEBHOOK_SECRET"]; !ok {
		t.Error("Secret example lacks WEBHOOK_SECRET, which BOT_MODE=webhook needs")
	}
	svc := only[corev1.Service](t, ms)
	svcPorts := map[string]string{} // Service port name → container port name
	for _, p := range svc.Spec.Ports {
		svcPorts[p.Name] = p.TargetPort.StrVal
	}
	if svcPorts["webhook"] != "webhook" || svcPorts["http"] != "http" {
		t.Errorf("Service: ports %v, want http → http and webhook → webhook", svcPorts)
	}

	// Scraping: the pod says where /metrics is.
	ann := dep.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != "/metrics" || ann["prometheus.io/port"] != strconv.Itoa(httpPort) {
		t.Errorf("Deployment: pod annotations %v, want prometheus.io/scrape, path /metrics, port %d", ann, httpPort)
	}
	if ru := dep.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("Deployment: want a rolling update with maxUnavailable 0")
	}

	hpa := only[autoscalingv2.HorizontalPodAutoscaler](t, ms)
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != dep.Name {
		t.Errorf("HPA: scales %+v, want the Deployment %s", ref, dep.Name)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < *dep.Spec.Replicas || hpa.Spec.MaxReplicas <= *hpa.Spec.MinReplicas {
		t.Errorf("HPA: min %v max %d; want min ≥ the Deployment's %d and max above min", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas, *dep.Spec.Replicas)
	}
	cpu := slices.ContainsFunc(hpa.Spec.Metrics, func(m autoscalingv2.MetricSpec) bool {
		return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
			m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && m.Resource.Target.AverageUtilization != nil
	})
	if !cpu {
		t.Errorf("HPA: want a CPU utilization target, has %+v", hpa.Spec.Metrics)
	}
	if _, ok := c.Resources.Requests[corev1.ResourceCPU]; !ok {
		t.Error("Deployment: the HPA's CPU utilization is a share of the CPU request, which is missing")
	}
	pdb := only[policyv1.PodDisruptionBudget](t, ms)
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 2 || pdb.Spec.MinAvailable.IntValue() >= int(*hpa.Spec.MinReplicas) {
		t.Errorf("PodDisruptionBudget: minAvailable %v: want at least 2 and below the HPA's minimum %d", pdb.Spec.MinAvailable, *hpa.Spec.MinReplicas)
	}

	ing := only[networkingv1.Ingress](t, ms)
	checkIngress(t, ing, svc, hook, cm.Data["MINIAPP_URL"])
}

func checkIngress(t *testing.T, ing *networkingv1.Ingress, svc *corev1.Service, hook *url.URL, miniapp string) {
	t.Helper()
	if len(ing.Spec.Rules) != 1 || ing.Spec.Rules[0].HTTP == nil {
		t.Fatalf("Ingress: want one rule with HTTP paths")
	}
	rule := ing.Spec.Rules[0]
	if rule.Host != hook.Host {
		t.Errorf("Ingress: host %q, but WEBHOOK_URL is on %q", rule.Host, hook.Host)
	}
	if app, err := url.Parse(miniapp); err != nil || app.Host != rule.Host || !strings.HasPrefix(app.Path, "/app") {
		t.Errorf("Ingress: MINIAPP_URL %q is not served by the Ingress's /app on %s", miniapp, rule.Host)
	}
	if len(ing.Spec.TLS) == 0 || !slices.Contains(ing.Spec.TLS[0].Hosts, rule.Host) || ing.Spec.TLS[0].SecretName == "" {
		t.Errorf("Ingress: TLS %+v must cover %s (Telegram posts only to https)", ing.Spec.TLS, rule.Host)
	}
	routes := map[string]string{} // path → Service port name
	for _, p := range rule.HTTP.Paths {
		b := p.Backend.Service
		if b == nil || b.Name != svc.Name {
			t.Errorf("Ingress: path %s does not go to the Service %s", p.Path, svc.Name)
			continue
		}
		routes[p.Path] = b.Port.Name
	}
	for path, port := range map[string]string{hook.Path: "webhook", "/app": "http", "/api/miniapp": "http"} {
		if routes[path] != port {
			t.Errorf("Ingress: %s goes to port %q, want %q (routes %v)", path, routes[path], port, routes)
		}
	}
	// Only the webhook and the Mini App are public: billing's ingest API, metrics and probes are not.
	for _, private := range []string{"/api/v1/accruals", "/metrics", "/readyz", "/healthz"} {
		for path := range routes {
			if strings.HasPrefix(private, path) {
				t.Errorf("Ingress: path %s exposes %s", path, private)
			}
		}
	}
}

// TestComposeHealthcheck: compose checks serve with bonusbot's own probe (distroless has no curl).
func TestComposeHealthcheck(t *testing.T) {
	rd := loadReadme(t)
	if !rd.commands["probe"] {
		t.Fatal("README.md's Commands lack bonusbot probe")
	}
	raw := []byte(readFile(t, filepath.Join(root, "deploy", "compose.yaml")))
	var top map[string]json.RawMessage
	if err := decodeStrict(raw, &top); err != nil {
		t.Fatal(err)
	}
	var services map[string]composeService
	if err := json.Unmarshal(top["services"], &services); err != nil {
		t.Fatal(err)
	}
	df := parseDockerfile(t, filepath.Join(root, "deploy", "Dockerfile"))
	entry := execForm(t, df.stages[1].one(t, "ENTRYPOINT"))
	hc := services["bonusbot"].Healthcheck
	if hc == nil || !slices.Equal(hc.Test, []string{"CMD", entry[0], "probe"}) || hc.Interval == "" || hc.Retries == 0 {
		t.Errorf("compose.yaml: bonusbot's healthcheck %+v, want [CMD %s probe] with an interval and retries", hc, entry[0])
	}
}

// TestConfigDocumented: every variable cmd/bonusbot's config reads is in README.md's table and the
// table has nothing else; defaults in the code and in the table agree.
func TestConfigDocumented(t *testing.T) {
	rd := loadReadme(t)
	files, _ := filepath.Glob(filepath.Join(root, "cmd", "bonusbot", "config*.go"))
	read, defaults := map[string]bool{}, map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src := readFile(t, f)
		for _, m := range regexp.MustCompile(`"([A-Z][A-Z0-9_]{2,})"`).FindAllStringSubmatch(src, -1) {
			read[m[1]] = true
		}
		for _, m := range regexp.MustCompile(`(?m)^\s*"([A-Z][A-Z0-9_]{2,})":\s*"([^"]*)",`).FindAllStringSubmatch(src, -1) {
			defaults[m[1]] = m[2]
		}
	}
	if len(read) < 20 || len(defaults) < 10 {
		t.Fatalf("read %d variables and %d defaults from cmd/bonusbot/config*.go: the pattern no longer fits", len(read), len(defaults))
	}
	for name := range read {
		if _, ok := rd.vars[name]; !ok {
			t.Errorf("cmd/bonusbot reads %s, which README.md's configuration table does not document", name)
		}
	}
	for name := range rd.vars {
		if !read[name] {
			t.Errorf("README.md documents %s, which cmd/bonusbot's config never reads", name)
		}
	}
	for name, def := range defaults {
		if rd.vars[name] != def {
			t.Errorf("%s: README.md says the default is %q, the code %q", name, rd.vars[name], def)
		}
	}
}
