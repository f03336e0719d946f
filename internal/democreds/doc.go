// Package democreds holds the credentials of the local demo: the TalkJS app and
// key the embedded emulator accepts, and the webhook secrets the files in
// events/ are signed with. They are public on purpose and only ever reach
// processes on this machine; never use them for a real endpoint.
package democreds
