#!/bin/sh
# fixtures.sh: the self-test of the origin fixtures, which live in
# tests/fixtures (ombx_script looks here).
exec sh "$(dirname "$0")/../fixtures/test_fixtures.sh" "$@"
