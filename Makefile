# The two commands: `make run` serves Huddle, `make test` runs every test.
.PHONY: run test

run:
	scripts/run.sh

test:
	scripts/test.sh
