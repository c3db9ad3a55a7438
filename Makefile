# ctrlsim — see README.md. Every target installs what it needs from the Go
# module proxy; nothing else is required but Go itself.
GO       ?= go
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -X main.version=$(VERSION)
BIN      := bin/ctrlsim
PKGS     := ./...
BENCH    ?= .
BENCHTIME ?= 1s

.PHONY: bench-compare readme-plot all build build-kcm test lint vet fmt bench bench-compare chaos report fuzz clean upstreamdiff example example-operator

all: lint test build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ctrlsim

# ctrlsim with kube-controller-manager's own workload controllers as the
# strategies kcm and kcm-<kind> (a nested module: it needs k8s.io/kubernetes).
build-kcm:
	cd models/kcm && $(GO) build -ldflags '$(LDFLAGS)' -o ../../bin/ctrlsim-kcm ./cmd/ctrlsim

# The test command CI runs. Short mode keeps it well under ten minutes on two
# cores; the race detector runs over the engine, the controller runtime and
# the hosting of client-go code (where the World and hosted goroutines meet).
test: lint
	$(GO) test -count=1 -short $(PKGS)
	$(GO) test -count=1 -short -race ./harness/sim/ ./harness/controller/ ./harness/host/
	$(GO) test -count=1 -race -run TestHosted ./run/
	$(MAKE) upstreamdiff
	$(MAKE) example
	$(MAKE) example-operator

# Differential tests of the models against upstream's own code (the
# ReplicaSet ranking, the DaemonSet node rules and revision hash), in nested
# modules so that the main module does not depend on
# k8s.io/kubernetes.
# The plug-in example, a controller in its own module: its tests, and a
# short chaos sweep and a comparison against the built-in models with its
# ctrlsim binary (ctrlsim.Main with the plug-in's strategy).
example:
	cd examples/oldest-first && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) test -count=1 ./...
	cd examples/oldest-first && $(GO) build -o ../../bin/ctrlsim-oldest-first ./cmd/ctrlsim
	./bin/ctrlsim-oldest-first chaos --strategies example-oldest-first,upstream --scenarios rs-self-heal,rs-scale-down-deletion-cost,rs-chaos-stale-cache --seeds 3 --exit-zero --out out/example-chaos
	./bin/ctrlsim-oldest-first compare --strategies example-oldest-first,oldest-first,upstream --scenarios rs-self-heal,rs-scale-down-deletion-cost --seeds 3 --figures none --exit-zero --out out/example-compare >/dev/null

# The hosted-operator example: an ordinary controller-runtime operator in a
# module of its own, run unmodified through harness/host. Its tests (the
# catalog's ReplicaSet scenarios, determinism across processes, a chaos
# sweep through the library), then its ctrlsim binary sweeps those scenarios
# with random fault plans, next to upstream on the same plans.
OPERATOR_SCENARIOS ?= rs-adopt-after,rs-adopt-before,rs-chaos-stale-cache,rs-hpa,rs-isolate-by-relabel,rs-node-loss,rs-orphan-delete-readopt,rs-scale-down-deletion-cost,rs-self-heal
OPERATOR_SEEDS ?= 10
example-operator:
	cd examples/rs-operator && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) test -count=1 ./...
	cd examples/rs-operator && $(GO) build -o ../../bin/ctrlsim-rs-operator ./cmd/ctrlsim
	./bin/ctrlsim-rs-operator chaos --strategies rs-operator,upstream --scenarios $(OPERATOR_SCENARIOS) --seeds $(OPERATOR_SEEDS) --shrink-runs 20 --exit-zero --out out/operator-chaos

upstreamdiff:
	cd models/replicaset/upstreamdiff && $(GO) mod tidy -diff && $(GO) test -count=1 ./...
	cd models/daemonset/upstreamdiff && $(GO) mod tidy -diff && $(GO) test -count=1 ./...
	cd models/kcm && $(GO) mod tidy -diff && $(GO) test -count=1 ./...

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

# Benchmarks of the engine, the API server and the cluster. BENCH selects,
# BENCHTIME sets -benchtime (e.g. make bench BENCHTIME=3s).
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) $(PKGS)

# The main job: every built-in strategy on every built-in scenario, 5 seeds
# each; the report lands in out/report (report.md, report.json, runs/).
SEEDS ?= 5
report: build
	./$(BIN) compare --seeds $(SEEDS) --exit-zero --out out/report

# Performance regressions: the fast benchmarks of this tree against BASE (the
# merge base with origin/main, else the previous commit), 6 runs each (benchstat's minimum for a confidence interval),
# compared with benchstat (from the module proxy).
BASE ?= $(shell git merge-base HEAD origin/main 2>/dev/null || git rev-parse HEAD~1)
BENCH_COMPARE ?= EventQueue|CoroutineSwitch|APICreate|APIGet|Sync|Ranking
BENCH_PKGS := ./harness/sim/ ./harness/apiserver/ ./models/replicaset/
bench-compare:
	@mkdir -p out/bench && rm -rf out/bench/base && git worktree add -f -q out/bench/base $(BASE)
	cd out/bench/base && $(GO) test -run '^$$' -bench '$(BENCH_COMPARE)' -count 6 $(BENCH_PKGS) > ../base.txt
	$(GO) test -run '^$$' -bench '$(BENCH_COMPARE)' -count 6 $(BENCH_PKGS) > out/bench/head.txt
	git worktree remove --force out/bench/base
	$(GO) run golang.org/x/perf/cmd/benchstat@latest out/bench/base.txt out/bench/head.txt

# The README's plot, from a real run.
readme-plot: build
	./$(BIN) run --scenario rs-node-loss --strategy naive --seed 1 --out out/readme >/dev/null || true
	cp out/readme/replicas.png reports/images/rs-node-loss-naive.png
	./$(BIN) compare --strategies newest-first --scenarios rs-scale-down-deletion-cost --seeds 1 --out out/readme-compare >/dev/null
	cp out/readme-compare/figures/rs-scale-down-deletion-cost/newest-first/ordering.png reports/images/ordering-newest-first.png

# The nightly chaos sweep: every runnable catalog scenario × CHAOS_STRATEGIES
# × CHAOS_SEEDS, each seed with its own random fault plan; failures shrunk
# into repro.yaml. Shard it with CHAOS_SHARD=I/N and join with ctrlsim merge.
CHAOS_SEEDS ?= 1-1000
CHAOS_STRATEGIES ?= upstream
CHAOS_SHARD ?= 0/1
chaos: build
	./$(BIN) chaos --seeds $(CHAOS_SEEDS) --strategies $(CHAOS_STRATEGIES) --shard $(CHAOS_SHARD) --out out/chaos

# A longer run of the scenario parser's fuzzer (make test runs its seed corpus).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz=FuzzParseScenario -fuzztime=$(FUZZTIME) ./workloads

clean:
	rm -rf bin out
