# Warren: the two documented commands are `make run` and `make test`; the rest are parts of them.
SHELL := /bin/bash
SPEC_XML := /usr/share/amqp/specs/0-9-1-rabbit/amqp0-9-1.stripped.extended.xml
GENERATED := Sources/AMQPWire/Generated/AMQPMethod.swift Tests/AMQPWireTests/Generated/AllMethodsSamples.swift
VENV := .venv
PY := $(VENV)/bin/python
# Needed to build: Cyrus SASL's headers for the optional `auth_backends.N = sasl` backend.
BUILD_PACKAGES := libsasl2-dev
# Needed to test: RabbitMQ for differential tests, the AMQP spec XML, saslpasswd2, openssl for certificates,
# headless Chromium and a font for the web console's browser test.
DEBIAN_PACKAGES := $(BUILD_PACKAGES) rabbitmq-server amqp-specs python3-venv sasl2-bin openssl chromium fonts-dejavu-core
RELEASE_SERVER := .build/release/warren-server
RELEASE_PERF := .build/release/warren-perf

.PHONY: run build release test deps build-deps install-packages venv generate check-generated lint format unit system soak fuzz conformance examples bench clean

## Build a release broker and run it on the defaults: port 5672, data in ./data, guest/guest from loopback.
run: release
	$(RELEASE_SERVER) --data-dir ./data

build: build-deps
	swift build

release: build-deps
	swift build -c release --product warren-server
	swift build -c release --product warren-perf
	swift build -c release --product warrenctl

## Everything CI runs: dependencies, generated-code check, lint, unit tests, process tests, fuzzing (30 s per
## target), conformance, examples.
test: deps check-generated lint unit system conformance examples
	$(MAKE) fuzz FUZZ_SECONDS=30

## Debian packages (those the build needs, RabbitMQ for differential tests, the AMQP spec XML, SASL
## tools) and the Python virtualenv.
deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEBIAN_PACKAGES)"
	@$(MAKE) --no-print-directory venv

## The Debian packages `swift build` needs (libsasl2's headers).
build-deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BUILD_PACKAGES)"

install-packages:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: Conformance/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -r Conformance/requirements.txt
	touch $@

## Regenerate the method codec from the spec XML.
generate:
	python3 Tools/generate_methods.py $(SPEC_XML) $(GENERATED)

## Fail if the committed generated code differs from what the generator makes now.
check-generated:
	@tmp=$$(mktemp -d); \
	python3 Tools/generate_methods.py $(SPEC_XML) $$tmp/AMQPMethod.swift $$tmp/AllMethodsSamples.swift; \
	diff -u Sources/AMQPWire/Generated/AMQPMethod.swift $$tmp/AMQPMethod.swift && \
	diff -u Tests/AMQPWireTests/Generated/AllMethodsSamples.swift $$tmp/AllMethodsSamples.swift || \
	{ echo "generated code is stale: run 'make generate' and commit the result"; rm -rf $$tmp; exit 1; }; \
	rm -rf $$tmp; echo "generated code is up to date"

lint:
	swift format lint --strict --recursive --parallel Package.swift Sources Tests Benchmarks

format:
	swift format format --in-place --recursive --parallel Package.swift Sources Tests Benchmarks

unit: build-deps
	swift test

## warren-server as a process: flags, configuration, signals, alarms, consumer timeouts, kill -9 recovery.
system: release venv
	$(PY) -m pytest -q -p no:cacheprovider --timeout 60 Tests/system

## The kill -9 crash test with 200 cycles instead of the 20 `make test` runs.
soak: release venv
	CRASH_CYCLES=200 $(PY) -m pytest -q -p no:cacheprovider --timeout 3600 Tests/system/test_crash_recovery.py

## libFuzzer with AddressSanitizer over every decoder of network bytes and the connection state machine,
## FUZZ_SECONDS per target, starting from Fuzz/corpus; a crashing input is saved as Fuzz/crashes/<target>-*.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := frames method field-table properties connection
FUZZER_LIB := $(shell dirname $$(dirname $$(command -v swift)))/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a
fuzz: build-deps
	swift build --scratch-path .build-fuzz --product warren-fuzz -Xswiftc -DFUZZING -Xswiftc -sanitize=address \
		-Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
		-Xlinker $(wildcard $(FUZZER_LIB)) -Xlinker -lstdc++
	mkdir -p Fuzz/crashes
	for target in $(FUZZ_TARGETS); do \
		mkdir -p .build-fuzz/corpus/$$target; \
		if ! WARREN_FUZZ_TARGET=$$target .build-fuzz/debug/warren-fuzz .build-fuzz/corpus/$$target \
			Fuzz/corpus/$$target -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=Fuzz/crashes/$$target- \
			> .build-fuzz/$$target.log 2>&1; then \
			tail -60 .build-fuzz/$$target.log; echo "fuzz: $$target failed; the input is saved in Fuzz/crashes/"; exit 1; \
		fi; \
		echo "fuzz: $$target: $$(grep -o 'Done [0-9]* runs' .build-fuzz/$$target.log) in $(FUZZ_SECONDS) s, no crash"; \
	done

conformance: release venv
	$(PY) -m pytest -q Conformance

examples: release venv
	$(PY) examples/run_examples.py --brokers warren,rabbitmq

## Side-by-side throughput and latency against RabbitMQ; see BENCHMARKS.md.
bench: release venv
	$(PY) Tools/bench.py --perf $(RELEASE_PERF)

clean:
	rm -rf .build $(VENV)

## Allocations per published message and per delivery (ordo-one/benchmark, its own package in Benchmarks/).
.PHONY: bench-alloc
bench-alloc:
	cd Benchmarks && swift package --scratch-path ../.build-bench benchmark

## A test CA with server and client certificates in ./certs (for trying TLS by hand; the conformance
## tests make their own). Does nothing if they exist; Tools/make-certs.sh --force certs remakes them.
.PHONY: certs
certs:
	sh Tools/make-certs.sh certs
