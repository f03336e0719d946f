// Package config reads the bridge's settings from the environment once, at
// start-up, and checks them, so that a missing or malformed value stops a
// function before its first event with one line naming the variable and what
// was expected. It knows nothing of AWS clients or TalkJS: it only turns
// strings into a validated Config. Variables lists every name it reads, so a
// template test can check that the SAM template sets nothing it ignores.
package config
