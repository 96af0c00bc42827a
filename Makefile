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
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --locked --no-deps

# The main job on the bundled synthetic table: rank features by GL-RFE, cross-validate the
# network on the 15 kept features (optimistic: they were chosen on the same rows), then the
# honest nested assessment beside the published protocol. Results land in out/demo/ (replaced
# on every run). `cargo run` finds the binary wherever CARGO_TARGET_DIR puts it.
GLRFE := $(CARGO) run --release --locked --quiet --
demo: build
	$(GLRFE) select $(TABLE) --label stage --out $(DEMO)/select --force
	$(GLRFE) evaluate $(TABLE) --label stage --use $(DEMO)/select/ranking.csv --out $(DEMO)/evaluate --force
	$(GLRFE) assess $(TABLE) --label stage --protocol both --out $(DEMO)/assess --force

bench:
	$(CARGO) bench --locked --bench glrfe

clean:
	$(CARGO) clean
	rm -rf out
