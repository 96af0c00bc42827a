# Targets a new user and CI need. Everything builds with the committed Cargo.lock (--locked).
CARGO ?= cargo
TABLE := fixtures/synthetic/radiomics_synthetic.csv
DEMO := out/demo

.PHONY: build test lint demo bench clean

build:
	$(CARGO) build --release --locked

# Release mode: the integration tests train many small networks, which debug builds make slow.
test:
	$(CARGO) test --release --locked

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings

# The main job on the bundled synthetic table: rank features by GL-RFE, then cross-validate the
# network on the 15 kept features. Results land in out/demo/ (replaced on every run).
demo: build
	mkdir -p out
	./target/release/glrfe select $(TABLE) --label stage --out $(DEMO)/select --force
	./target/release/glrfe evaluate $(TABLE) --label stage --use $(DEMO)/select/ranking.csv --out $(DEMO)/evaluate --force

bench:
	$(CARGO) bench --locked --bench glrfe

clean:
	$(CARGO) clean
	rm -rf out
