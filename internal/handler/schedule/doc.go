// Package schedule is the handler of the schedule function: EventBridge rules
// and EventBridge Scheduler invoke it, and it sends reminder messages.
//
// The input names a reminder of the routes file ({"reminder": "standup"}),
// or gives one inline ({"conversationIds": [...], "text": "..."}); a plain
// scheduled event with no input runs every reminder whose schedule matches
// the rule's name. Every message's idempotency key comes from the schedule,
// the scheduled time and the conversation, so the retry Lambda makes after a
// failed invocation never shows a reminder twice.
//
// A reminder that selects by filter walks the app's conversations in
// creation order, newest first, and sends while it walks: TalkJS's default
// order, the last activity, is changed by the very messages the reminder
// sends (see listing in schedule.go and BENCHMARKS.md for the measurement).
package schedule
