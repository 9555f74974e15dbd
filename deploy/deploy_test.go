package deploy

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// The test runs in deploy/; the repository root is its parent.
const root = ".."

// ---------------------------------------------------------------- README: the documented interface

type readme struct {
	vars     map[string]string // configuration table: name → default column (backquotes removed)
	commands map[string]bool   // first word after "bonusbot" in the Commands block
}

func loadReadme(t *testing.T) readme {
	t.Helper()
	text := readFile(t, filepath.Join(root, "README.md"))
	r := readme{vars: map[string]string{}, commands: map[string]bool{}}
	row := regexp.MustCompile("^\\| `([A-Z][A-Z0-9_]*)` \\|.*\\| ([^|]*) \\|$")
	for _, line := range strings.Split(section(t, text, "## Configuration"), "\n") {
		if m := row.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			r.vars[m[1]] = strings.Trim(strings.TrimSpace(m[2]), "`")
		}
	}
	cmd := regexp.MustCompile(`^bonusbot ([a-z]+)`)
	for _, line := range strings.Split(section(t, text, "## Commands"), "\n") {
		if m := cmd.FindStringSubmatch(line); m != nil {
			r.commands[m[1]] = true
		}
	}
	if len(r.vars) < 5 || r.vars["HTTP_ADDR"] == "" || r.vars["TIMEZONE"] == "" || !r.commands["serve"] || !r.commands["migrate"] || !r.commands["expire"] {
		t.Fatalf("README.md: could not read the configuration table or the commands: vars %v, commands %v", r.vars, r.commands)
	}
	return r
}

// section returns the text from heading to the next level-2 heading.
func section(t *testing.T, text, heading string) string {
	t.Helper()
	_, after, ok := strings.Cut(text, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md: no %q section", heading)
	}
	if i := strings.Index(after, "\n## "); i >= 0 {
		after = after[:i]
	}
	return after
}

func (r readme) checkVar(t *testing.T, where, name string) {
	t.Helper()
	if _, ok := r.vars[name]; !ok {
		t.Errorf("%s sets %s, which README.md's configuration table does not document", where, name)
	}
}

func (r readme) checkCommand(t *testing.T, where string, args []string) {
	t.Helper()
	if len(args) == 0 || !r.commands[args[0]] {
		t.Errorf("%s runs bonusbot %q: want a subcommand from README.md's Commands (%v)", where, args, slices.Sorted(maps.Keys(r.commands)))
	}
}

// httpPort is the port of HTTP_ADDR's documented default (":8080" → 8080).
func (r readme) httpPort(t *testing.T) int {
	t.Helper()
	return portOf(t, "README.md HTTP_ADDR default", r.vars["HTTP_ADDR"])
}

func portOf(t *testing.T, where, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	n, err2 := strconv.Atoi(p)
	if err != nil || err2 != nil {
		t.Fatalf("%s: %q is not host:port", where, addr)
	}
	return n
}

// ---------------------------------------------------------------- Dockerfile

type instruction struct {
	line int
	cmd  string // upper case
	args string
}

type stage struct {
	image, name string
	ins         []instruction
}

type dockerfile struct {
	globalArgs map[string]string
	stages     []stage
}

// parseDockerfile reads the instructions (continuations joined, comments dropped) into stages.
func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	df := dockerfile{globalArgs: map[string]string{}}
	var cur strings.Builder
	start := 0
	flush := func() {
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		if text == "" {
			return
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		switch {
		case in.cmd == "FROM":
			f := strings.Fields(in.args)
			f = slices.DeleteFunc(f, func(s string) bool { return strings.HasPrefix(s, "--platform=") })
			st := stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			} else if len(f) != 1 {
				t.Errorf("%s:%d: cannot read FROM %s", path, in.line, in.args)
			}
			df.stages = append(df.stages, st)
		case len(df.stages) == 0:
			if in.cmd != "ARG" {
				t.Errorf("%s:%d: %s before the first FROM", path, in.line, in.cmd)
			}
			name, def, _ := strings.Cut(in.args, "=")
			df.globalArgs[name] = def
		default:
			st := &df.stages[len(df.stages)-1]
			st.ins = append(st.ins, in)
		}
	}
	for i, line := range strings.Split(readFile(t, path), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments and parser directives, also inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	if len(df.stages) == 0 {
		t.Fatalf("%s: no FROM", path)
	}
	return df
}

// expand substitutes $NAME and ${NAME} from vars.
func expand(s string, vars map[string]string) string {
	return os.Expand(s, func(name string) string { return vars[name] })
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

func (s stage) one(t *testing.T, cmd string) instruction {
	t.Helper()
	all := s.all(cmd)
	if len(all) != 1 {
		t.Fatalf("Dockerfile stage %q: want one %s, have %d", s.name, cmd, len(all))
	}
	return all[0]
}

// execForm decodes a JSON-array (exec form) argument such as ENTRYPOINT ["/bonusbot"].
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	var v []string
	if err := json.Unmarshal([]byte(in.args), &v); err != nil || len(v) == 0 {
		t.Fatalf("Dockerfile:%d: %s must use the exec (JSON array) form so signals reach bonusbot; got %s", in.line, in.cmd, in.args)
	}
	return v
}

// checkPinned accepts an image with an explicit tag other than latest, or a digest.
func checkPinned(t *testing.T, where, image string) {
	t.Helper()
	if strings.Contains(image, "@sha256:") {
		return
	}
	lastSlash := strings.LastIndex(image, "/")
	colon := strings.LastIndex(image, ":")
	if colon <= lastSlash || image[colon+1:] == "" || image[colon+1:] == "latest" || strings.Contains(image, "$") {
		t.Errorf("%s: image %q is not pinned by a tag (other than latest) or a digest", where, image)
	}
}

func TestDockerfile(t *testing.T) {
	rd := loadReadme(t)
	path := filepath.Join(root, "deploy", "Dockerfile")
	df := parseDockerfile(t, path)
	if len(df.stages) != 2 {
		t.Fatalf("Dockerfile: want a builder and a runtime stage, have %d stages", len(df.stages))
	}
	names := map[string]bool{}
	for _, st := range df.stages {
		img := expand(st.image, df.globalArgs)
		if !names[img] {
			checkPinned(t, "Dockerfile FROM "+st.image, img)
		}
		names[st.name] = true
	}

	build, final := df.stages[0], df.stages[1]
	goImage := expand(build.image, df.globalArgs)
	goMod := readFile(t, filepath.Join(root, "go.mod"))
	goDirective := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(goMod)
	if goDirective == nil || !strings.HasPrefix(goImage, "golang:"+goDirective[1]) {
		t.Errorf("Dockerfile: builder image %q does not match go.mod's go %v", goImage, goDirective)
	}
	if img := expand(final.image, df.globalArgs); img != "gcr.io/distroless/static-debian12:nonroot" {
		t.Errorf("Dockerfile: runtime image %q, want gcr.io/distroless/static-debian12:nonroot (CA certificates, nonroot user)", img)
	}

	// The build: static, trimmed, versioned, and where the runtime stage copies from.
	var goBuild string
	for _, in := range build.all("RUN") {
		if strings.Contains(in.args, "go build") {
			goBuild = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-X main.version=${VERSION}", "./cmd/bonusbot", "--mount=type=cache,target=/go/pkg/mod"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("Dockerfile: the go build step lacks %q: %s", want, goBuild)
		}
	}
	if !slices.ContainsFunc(build.all("ARG"), func(in instruction) bool { return strings.HasPrefix(in.args, "VERSION") }) {
		t.Error("Dockerfile: the builder stage has no ARG VERSION for -X main.version")
	}
	if !regexp.MustCompile(`(?m)^var version = `).MatchString(readFile(t, filepath.Join(root, "cmd", "bonusbot", "main.go"))) {
		t.Error("cmd/bonusbot/main.go no longer has `var version = …` for -X main.version")
	}
	out := regexp.MustCompile(`-o (\S+)`).FindStringSubmatch(goBuild)
	if out == nil {
		t.Fatalf("Dockerfile: the go build step names no -o output: %s", goBuild)
	}
	copyIn := final.one(t, "COPY")
	f := strings.Fields(copyIn.args)
	if len(f) != 3 || f[0] != "--from="+build.name || f[1] != out[1] {
		t.Errorf("Dockerfile:%d: want COPY --from=%s %s <dest>, have COPY %s", copyIn.line, build.name, out[1], copyIn.args)
	}
	entry := execForm(t, final.one(t, "ENTRYPOINT"))
	if len(f) == 3 && (len(entry) != 1 || entry[0] != f[2]) {
		t.Errorf("Dockerfile: ENTRYPOINT %q does not run the copied binary %s", entry, f[2])
	}
	rd.checkCommand(t, "Dockerfile CMD", execForm(t, final.one(t, "CMD")))

	user := final.one(t, "USER").args
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("Dockerfile: USER %q: want a numeric non-root uid so runAsNonRoot can verify it", user)
	}
	if expose := final.one(t, "EXPOSE").args; expose != strconv.Itoa(rd.httpPort(t)) {
		t.Errorf("Dockerfile: EXPOSE %s, but HTTP_ADDR defaults to %s", expose, rd.vars["HTTP_ADDR"])
	}
	if hc := final.all("HEALTHCHECK"); len(hc) > 0 {
		t.Errorf("Dockerfile:%d: HEALTHCHECK cannot run in distroless (no shell, no curl)", hc[0].line)
	}
}

// TestDockerignore checks that the build context keeps every build input and drops the junk.
func TestDockerignore(t *testing.T) {
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatal(err)
	}
	excluded := func(rel string) bool {
		ok, err := pm.MatchesOrParentMatches(filepath.ToSlash(rel))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, p := range []string{".git", ".git/HEAD", "bin/bonusbot", "bench-results.json", "ledger/ledger.test", ".env", "deploy/.env"} {
		if !excluded(p) {
			t.Errorf(".dockerignore keeps %s in the build context", p)
		}
	}
	// Build inputs: go.mod, go.sum and every file of every Go package (sources and embedded files).
	inputs := []string{"go.mod", "go.sum"}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == ".git" && !d.IsDir() {
			return nil // in a git worktree .git is a file naming the real one; not a build input either way
		}
		if d.IsDir() {
			if rel == ".git" || rel == "bin" || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if gos, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.go")); len(gos) > 0 {
			inputs = append(inputs, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range inputs {
		if excluded(p) {
			t.Errorf(".dockerignore drops %s, which the build needs", p)
		}
	}
	if !slices.Contains(inputs, filepath.Join("deploy", "demo", "catalog.csv")) {
		t.Errorf("build inputs miss deploy/demo/catalog.csv (embedded): %v", inputs)
	}
}

// ---------------------------------------------------------------- compose.yaml

type composeFile struct {
	Name     string                    `json:"name"`
	Services map[string]composeService `json:"services"`
	Volumes  map[string]*composeVolume `json:"volumes"`
}

type composeVolume struct {
	Driver string `json:"driver"`
}

// composeService is the part of the Compose specification this file uses, in the forms it uses;
// strict decoding rejects anything else, such as a misspelt key.
type composeService struct {
	Image       string                `json:"image"`
	Build       *composeBuild         `json:"build"`
	Command     []string              `json:"command"`
	Environment map[string]string     `json:"environment"`
	EnvFile     []composeEnvFile      `json:"env_file"`
	DependsOn   map[string]composeDep `json:"depends_on"`
	Healthcheck *composeHealthcheck   `json:"healthcheck"`
	Ports       []string              `json:"ports"`
	Volumes     []string              `json:"volumes"`
	Restart     string                `json:"restart"`
	ReadOnly    bool                  `json:"read_only"`
	CapDrop     []string              `json:"cap_drop"`
	SecurityOpt []string              `json:"security_opt"`
}

type composeBuild struct {
	Context    string            `json:"context"`
	Dockerfile string            `json:"dockerfile"`
	Args       map[string]string `json:"args"`
}

type composeEnvFile struct {
	Path     string `json:"path"`
	Required *bool  `json:"required"`
}

type composeDep struct {
	Condition string `json:"condition"`
}

type composeHealthcheck struct {
	Test        []string `json:"test"`
	Interval    string   `json:"interval"`
	Timeout     string   `json:"timeout"`
	Retries     int      `json:"retries"`
	StartPeriod string   `json:"start_period"`
}

func TestCompose(t *testing.T) {
	rd := loadReadme(t)
	path := filepath.Join(root, "deploy", "compose.yaml")
	raw := []byte(readFile(t, path))

	// Interpolation: every ${VAR} has a default, so `docker compose config` works without a .env.
	for _, m := range regexp.MustCompile(`\$\{([^}]*)\}`).FindAllStringSubmatch(string(raw), -1) {
		if !strings.Contains(m[1], ":-") {
			t.Errorf("compose.yaml: ${%s} has no default", m[1])
		}
	}
	// Top-level x-* keys are anchors for merging (<<:); the rest decodes strictly.
	var top map[string]json.RawMessage
	if err := decodeStrict(raw, &top); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for k := range top {
		if strings.HasPrefix(k, "x-") {
			delete(top, k)
		}
	}
	rest, _ := json.Marshal(top)
	var cf composeFile
	if err := decodeStrict(rest, &cf); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}

	for _, name := range []string{"postgres", "redis", "migrate", "bonusbot"} {
		if _, ok := cf.Services[name]; !ok {
			t.Fatalf("compose.yaml: no service %q", name)
		}
	}
	pg, redis := cf.Services["postgres"], cf.Services["redis"]
	if pg.Image != "postgres:15" || redis.Image != "redis:7" {
		t.Errorf("compose.yaml: images %q and %q, want postgres:15 and redis:7", pg.Image, redis.Image)
	}
	if pg.Healthcheck == nil || !slices.Contains(pg.Healthcheck.Test, "pg_isready") {
		t.Errorf("compose.yaml: postgres needs a pg_isready healthcheck, has %+v", pg.Healthcheck)
	}
	if redis.Healthcheck == nil || !slices.Contains(redis.Healthcheck.Test, "redis-cli") || !slices.Contains(redis.Healthcheck.Test, "ping") {
		t.Errorf("compose.yaml: redis needs a redis-cli ping healthcheck, has %+v", redis.Healthcheck)
	}
	if want := []string{"redis-server", "--save", "", "--appendonly", "no"}; !slices.Equal(redis.Command, want) {
		t.Errorf("compose.yaml: redis command %q, want %q (no persistence)", redis.Command, want)
	}
	for _, v := range pg.Volumes {
		if vol, _, _ := strings.Cut(v, ":"); !strings.HasPrefix(vol, ".") && !strings.HasPrefix(vol, "/") {
			if _, ok := cf.Volumes[vol]; !ok {
				t.Errorf("compose.yaml: postgres mounts undeclared volume %q", vol)
			}
		}
	}

	df := parseDockerfile(t, filepath.Join(root, "deploy", "Dockerfile"))
	port := strconv.Itoa(rd.httpPort(t))
	for name, s := range cf.Services {
		where := "compose.yaml service " + name
		checkPinned(t, where, os.Expand(s.Image, composeDefault))
		for dep, d := range s.DependsOn {
			if _, ok := cf.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %q", where, dep)
			}
			if !slices.Contains([]string{"service_started", "service_healthy", "service_completed_successfully"}, d.Condition) {
				t.Errorf("%s: depends_on %s: unknown condition %q", where, dep, d.Condition)
			}
			if d.Condition == "service_healthy" && cf.Services[dep].Healthcheck == nil {
				t.Errorf("%s waits for %s to be healthy, which has no healthcheck", where, dep)
			}
		}
		if s.Build == nil && !strings.HasPrefix(s.Image, "bonusbot:") {
			continue
		}
		// bonusbot itself: built from deploy/Dockerfile, configured only with documented variables.
		if s.Build == nil || filepath.Clean(filepath.Join("deploy", s.Build.Context)) != "." || filepath.ToSlash(s.Build.Dockerfile) != "deploy/Dockerfile" {
			t.Errorf("%s: want build context .. (the repository root) and dockerfile deploy/Dockerfile, have %+v", where, s.Build)
		} else {
			for arg := range s.Build.Args {
				if !slices.ContainsFunc(df.stages[0].all("ARG"), func(in instruction) bool { return strings.HasPrefix(in.args, arg) }) {
					t.Errorf("%s: build arg %s is not an ARG of the builder stage", where, arg)
				}
			}
		}
		rd.checkCommand(t, where, s.Command)
		for k := range s.Environment {
			rd.checkVar(t, where+" environment", k)
		}
		for _, ef := range s.EnvFile {
			if ef.Path != ".env" || ef.Required == nil || *ef.Required {
				t.Errorf("%s: env_file %+v: want .env with required: false (copied from .env.example)", where, ef)
			}
		}
		if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("%s: want read_only and cap_drop ALL, as in Kubernetes", where)
		}
		for _, p := range s.Ports {
			if _, container, _ := strings.Cut(p, ":"); container != port {
				t.Errorf("%s: port %q does not publish the container's %s (HTTP_ADDR)", where, p, port)
			}
		}
	}
	serve := cf.Services["bonusbot"]
	if !slices.Equal(serve.Command, []string{"serve"}) {
		t.Errorf("compose.yaml: service bonusbot runs %q, want serve", serve.Command)
	}
	for dep, cond := range map[string]string{"postgres": "service_healthy", "redis": "service_healthy", "migrate": "service_completed_successfully"} {
		if serve.DependsOn[dep].Condition != cond {
			t.Errorf("compose.yaml: serve must wait for %s (%s), has %+v", dep, cond, serve.DependsOn)
		}
	}
	if m := cf.Services["migrate"]; !slices.Equal(m.Command, []string{"migrate"}) || m.Restart != "no" {
		t.Errorf("compose.yaml: migrate must be a one-shot `migrate`, has %q restart %q", m.Command, m.Restart)
	}

	// .env.example: names the app documents, and no values that look like real tokens.
	env := readFile(t, filepath.Join(root, "deploy", ".env.example"))
	line := regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]*)=(.*)$`)
	seen := 0
	for _, l := range strings.Split(env, "\n") {
		m := line.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		seen++
		rd.checkVar(t, "deploy/.env.example", m[1])
		if strings.Contains(m[1], "TOKEN") && m[2] != "" {
			t.Errorf("deploy/.env.example: %s must be an empty placeholder, has %q", m[1], m[2])
		}
	}
	for _, want := range []string{"INGEST_TOKEN=", "TELEGRAM_BOT_TOKEN="} {
		if !strings.Contains(env, "\n"+want) {
			t.Errorf("deploy/.env.example lacks %s", want)
		}
	}
	if seen == 0 {
		t.Error("deploy/.env.example sets nothing")
	}
}

// composeDefault resolves ${VAR:-default} to its default, as compose does with VAR unset.
func composeDefault(s string) string {
	_, def, _ := strings.Cut(s, ":-")
	return def
}

// ---------------------------------------------------------------- Kubernetes

type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
		Digest  string `json:"digest"`
	} `json:"images"`
}

type manifest struct {
	file string
	obj  any
	meta *metav1.ObjectMeta
}

// newObject returns the typed object for a document's apiVersion and kind.
func newObject(apiVersion, kind string) (any, *metav1.ObjectMeta, error) {
	switch apiVersion + " " + kind {
	case "v1 ConfigMap":
		o := &corev1.ConfigMap{}
		return o, &o.ObjectMeta, nil
	case "v1 Secret":
		o := &corev1.Secret{}
		return o, &o.ObjectMeta, nil
	case "v1 Service":
		o := &corev1.Service{}
		return o, &o.ObjectMeta, nil
	case "apps/v1 Deployment":
		o := &appsv1.Deployment{}
		return o, &o.ObjectMeta, nil
	case "batch/v1 Job":
		o := &batchv1.Job{}
		return o, &o.ObjectMeta, nil
	case "batch/v1 CronJob":
		o := &batchv1.CronJob{}
		return o, &o.ObjectMeta, nil
	case "policy/v1 PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		return o, &o.ObjectMeta, nil
	case "autoscaling/v2 HorizontalPodAutoscaler":
		o := &autoscalingv2.HorizontalPodAutoscaler{}
		return o, &o.ObjectMeta, nil
	case "networking.k8s.io/v1 Ingress":
		o := &networkingv1.Ingress{}
		return o, &o.ObjectMeta, nil
	}
	return nil, nil, fmt.Errorf("unexpected apiVersion %q kind %q", apiVersion, kind)
}

// loadManifests strictly decodes every document of every *.yaml in deploy/k8s but the kustomization.
func loadManifests(t *testing.T, dir string) []manifest {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var out []manifest
	for _, path := range files {
		file := filepath.Base(path)
		if file == "kustomization.yaml" {
			continue
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(readFile(t, path))))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if tm == (metav1.TypeMeta{}) {
				continue // comments only
			}
			obj, meta, err := newObject(tm.APIVersion, tm.Kind)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if err := decodeStrict(doc, obj); err != nil {
				t.Fatalf("%s: %s %s: %v", file, tm.Kind, meta.Name, err)
			}
			out = append(out, manifest{file: file, obj: obj, meta: meta})
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no manifests", dir)
	}
	return out
}

func only[T any](t *testing.T, ms []manifest) *T {
	t.Helper()
	var found []*T
	for _, m := range ms {
		if o, ok := m.obj.(*T); ok {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %T, have %d", *new(T), len(found))
	}
	return found[0]
}

func TestKubernetes(t *testing.T) {
	rd := loadReadme(t)
	dir := filepath.Join(root, "deploy", "k8s")
	ms := loadManifests(t, dir)

	// kustomization.yaml lists every manifest but the Secret example, and only files that exist.
	var k kustomization
	if err := decodeStrict([]byte(readFile(t, filepath.Join(dir, "kustomization.yaml"))), &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: apiVersion %q kind %q", k.APIVersion, k.Kind)
	}
	files := map[string]bool{}
	for _, m := range ms {
		files[m.file] = true
	}
	for f := range files {
		listed := slices.Contains(k.Resources, f)
		if example := strings.HasSuffix(f, ".example.yaml"); listed == example {
			t.Errorf("kustomization.yaml: %s listed=%v; want every manifest listed except *.example.yaml", f, listed)
		}
	}
	for _, f := range k.Resources {
		if !files[f] {
			t.Errorf("kustomization.yaml lists %s, which is not a manifest here", f)
		}
	}
	images := map[string]string{} // name in the manifests → the image kustomize sets
	for _, img := range k.Images {
		ref := cmp.Or(img.NewName, img.Name)
		if img.Digest != "" {
			ref += "@" + img.Digest
		} else if img.NewTag != "" {
			ref += ":" + img.NewTag
		}
		images[img.Name] = ref
	}

	seen := map[string]bool{}
	for _, m := range ms {
		id := fmt.Sprintf("%s %T/%s", m.file, m.obj, m.meta.Name)
		if m.meta.Name == "" {
			t.Errorf("%s: no metadata.name", id)
		}
		if m.meta.Namespace != "" {
			t.Errorf("%s: sets namespace %q; the manifests are namespace-free", id, m.meta.Namespace)
		}
		if m.meta.Labels["app.kubernetes.io/name"] != "bonusbot" {
			t.Errorf("%s: no label app.kubernetes.io/name=bonusbot", id)
		}
		if key := fmt.Sprintf("%T/%s", m.obj, m.meta.Name); seen[key] {
			t.Errorf("%s: duplicate", id)
		} else {
			seen[key] = true
		}
	}

	cm := only[corev1.ConfigMap](t, ms)
	secret := only[corev1.Secret](t, ms)
	for name := range cm.Data {
		rd.checkVar(t, "ConfigMap "+cm.Name, name)
		if _, dup := secret.StringData[name]; dup {
			t.Errorf("%s is both in the ConfigMap and in the Secret", name)
		}
	}
	if len(secret.Data) > 0 {
		t.Errorf("Secret example: use stringData placeholders, not data")
	}
	for name, v := range secret.StringData {
		rd.checkVar(t, "Secret "+secret.Name, name)
		if !strings.Contains(v, "CHANGE-ME") && !strings.Contains(v, ".example") {
			t.Errorf("Secret example: %s=%q is not an obvious placeholder (CHANGE-ME or an .example host)", name, v)
		}
	}
	for _, name := range []string{"DATABASE_URL", "REDIS_URL", "INGEST_TOKEN", "TELEGRAM_BOT_TOKEN"} {
		if _, ok := secret.StringData[name]; !ok {
			t.Errorf("Secret example lacks %s", name)
		}
	}
	httpPort := portOf(t, "ConfigMap HTTP_ADDR", cmp.Or(cm.Data["HTTP_ADDR"], rd.vars["HTTP_ADDR"]))
	if httpPort != rd.httpPort(t) {
		t.Errorf("ConfigMap HTTP_ADDR %q: the image EXPOSEs %d", cm.Data["HTTP_ADDR"], rd.httpPort(t))
	}

	checkPod := func(where string, spec corev1.PodSpec, subcommand string) {
		t.Helper()
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
			t.Errorf("%s: pod securityContext needs runAsNonRoot: true and a non-zero runAsUser", where)
		}
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			t.Errorf("%s: bonusbot does not talk to the API server: automountServiceAccountToken: false", where)
		}
		if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
			t.Fatalf("%s: want one container", where)
		}
		c := spec.Containers[0]
		where += " container " + c.Name
		image, ok := images[c.Image]
		if !ok {
			image = c.Image
		}
		checkPinned(t, where, image)
		if len(c.Command) != 0 {
			t.Errorf("%s: sets command %q; keep the image's ENTRYPOINT and pass args", where, c.Command)
		}
		rd.checkCommand(t, where, c.Args)
		if len(c.Args) == 0 || c.Args[0] != subcommand {
			t.Errorf("%s: runs %q, want %s", where, c.Args, subcommand)
		}
		for _, e := range c.Env {
			rd.checkVar(t, where+" env", e.Name)
		}
		for _, ef := range c.EnvFrom {
			switch {
			case ef.Prefix != "":
				t.Errorf("%s: envFrom with prefix %q renames the variables", where, ef.Prefix)
			case ef.ConfigMapRef != nil && ef.ConfigMapRef.Name != cm.Name:
				t.Errorf("%s: envFrom ConfigMap %q, want %q", where, ef.ConfigMapRef.Name, cm.Name)
			case ef.SecretRef != nil && ef.SecretRef.Name != secret.Name:
				t.Errorf("%s: envFrom Secret %q, want %q", where, ef.SecretRef.Name, secret.Name)
			}
		}
		for _, kind := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, okReq := c.Resources.Requests[kind]
			lim, okLim := c.Resources.Limits[kind]
			if !okReq || !okLim || req.Cmp(lim) > 0 {
				t.Errorf("%s: %s request %v and limit %v: want both, request ≤ limit", where, kind, req.String(), lim.String())
			}
		}
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("%s: securityContext needs readOnlyRootFilesystem, no privilege escalation, drop ALL", where)
		}
	}

	dep := only[appsv1.Deployment](t, ms)
	checkPod("Deployment "+dep.Name, dep.Spec.Template.Spec, "serve")
	podLabels := labels.Set(dep.Spec.Template.Labels)
	sel, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(podLabels) {
		t.Errorf("Deployment: selector %v does not select its own pods %v (%v)", dep.Spec.Selector, podLabels, err)
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas < 2 {
		t.Errorf("Deployment: want at least 2 replicas")
	}
	c := dep.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{} // by name; the webhook's port is checked in TestWebhookReplicas
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != int32(httpPort) {
		t.Errorf("Deployment: containerPort http is %d, but HTTP_ADDR is %q", ports["http"], cm.Data["HTTP_ADDR"])
	}
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path {
			t.Errorf("Deployment: %s probe must GET %s, has %+v", name, path, p)
			return
		}
		if port := p.HTTPGet.Port; port.IntValue() != httpPort && ports[port.StrVal] != int32(httpPort) {
			t.Errorf("Deployment: %s probe port %v is not the HTTP port", name, port.String())
		}
	}
	probe("readiness", c.ReadinessProbe, "/readyz")
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("startup", c.StartupProbe, "/healthz")
	if mem := c.Resources.Requests[corev1.ResourceMemory]; mem.Cmp(resource.MustParse("150M")) < 0 {
		t.Errorf("Deployment: memory request %s is below the ~150 MB RSS serve runs at", mem.String())
	}

	svc := only[corev1.Service](t, ms)
	if s := labels.SelectorFromSet(svc.Spec.Selector); len(svc.Spec.Selector) == 0 || !s.Matches(podLabels) {
		t.Errorf("Service: selector %v does not select the Deployment's pods", svc.Spec.Selector)
	}
	servesHTTP := false
	for _, p := range svc.Spec.Ports {
		tp := p.TargetPort
		if _, named := ports[tp.StrVal]; !named && !slices.Contains(slices.Collect(maps.Values(ports)), int32(tp.IntValue())) {
			t.Errorf("Service: targetPort %v is none of the container's ports %v", tp.String(), ports)
		}
		servesHTTP = servesHTTP || tp.IntValue() == httpPort || ports[tp.StrVal] == int32(httpPort)
	}
	if !servesHTTP {
		t.Errorf("Service: no port reaches the container's HTTP port %d", httpPort)
	}

	pdb := only[policyv1.PodDisruptionBudget](t, ms)
	if s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err != nil || s.Empty() || !s.Matches(podLabels) {
		t.Errorf("PodDisruptionBudget: selector does not select the Deployment's pods")
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() >= int(*dep.Spec.Replicas) {
		t.Errorf("PodDisruptionBudget: minAvailable %v must be below the %d replicas, or no node drains", pdb.Spec.MinAvailable, *dep.Spec.Replicas)
	}

	job := only[batchv1.Job](t, ms)
	checkPod("Job "+job.Name, job.Spec.Template.Spec, "migrate")
	if rp := job.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever && rp != corev1.RestartPolicyOnFailure {
		t.Errorf("Job: restartPolicy %q", rp)
	}

	cj := only[batchv1.CronJob](t, ms)
	checkPod("CronJob "+cj.Name, cj.Spec.JobTemplate.Spec.Template.Spec, "expire")
	if cj.Spec.Schedule != "5 0 * * *" {
		t.Errorf("CronJob: schedule %q, want 00:05 nightly", cj.Spec.Schedule)
	}
	zone := cmp.Or(cm.Data["TIMEZONE"], rd.vars["TIMEZONE"])
	if tz := cj.Spec.TimeZone; tz == nil || *tz != zone {
		got := "(unset: the controller's zone)"
		if tz != nil {
			got = *tz
		}
		t.Errorf("CronJob: timeZone %s, want the business time zone %q", got, zone)
	}
	if cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
		t.Errorf("CronJob: want suspend: true; serve sweeps daily in a River job, the CronJob is the manual and backfill path")
	}
	if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("CronJob: concurrencyPolicy %q, want Forbid", cj.Spec.ConcurrencyPolicy)
	}
}

// ---------------------------------------------------------------- helpers

// decodeStrict decodes one YAML document as kubectl and the API server do: YAML to JSON without
// regard to the target type (so an unquoted 20 stays a number and cannot fill a string), then
// case-sensitive JSON in which unknown and duplicate fields are errors.
func decodeStrict(doc []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := sigsjson.UnmarshalStrict(j, v, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestYamllint lints the YAML with deploy/.yamllint.yaml where yamllint is installed
// (apt-get install yamllint); CI machines without it skip.
func TestYamllint(t *testing.T) {
	bin, err := exec.LookPath("yamllint")
	if err != nil {
		t.Skip("yamllint not installed")
	}
	out, err := exec.Command(bin, "-s", "-f", "parsable", "-c", ".yamllint.yaml", ".").CombinedOutput()
	if err != nil {
		t.Errorf("yamllint: %v\n%s", err, out)
	}
}
