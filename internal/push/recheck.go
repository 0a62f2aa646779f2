package push

// senderAt returns the sender of ids[i], from senders aligned with the end of ids; ""
// when it is not recorded.
func senderAt(ids, senders []string, i int) string {
	j := i - (len(ids) - len(senders))
	if i < 0 || i >= len(ids) || j < 0 || j >= len(senders) {
		return ""
	}
	return senders[j]
}

// trimSenders returns the senders of the newest keep items of senders (aligned with the
// end of their ids), after the older ones were removed.
func trimSenders(senders []string, keep int) []string {
	if keep <= 0 {
		return nil
	}
	if len(senders) > keep {
		return senders[len(senders)-keep:]
	}
	return senders
}
