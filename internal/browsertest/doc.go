// Package browsertest runs Debian's headless Chromium for tests that check
// what a page really shows, JavaScript included: DumpDOM returns the DOM
// after the page's scripts ran, Screenshot writes a PNG. Without Chromium
// the tests skip, except under CI (CI set), where .ci/run installs it and a
// missing browser is a failure.
package browsertest
