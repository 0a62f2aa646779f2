package push

import (
	"context"
	"fmt"
)

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

// recheckSenders drops from each claim the items whose sender its recipient blocks now,
// as the senders' blockers indexes say (blocksOf, the message stage's source of truth): a
// block indexed after the items were queued holds for the digest. One read per distinct
// sender of cs, shared by all its recipients (plus the block documents of an overflowed
// index); an immediate send finds its message's index already loaded and reads nothing.
// Items without a recorded sender are kept. The dropped items stay covered by the
// claim, so completing it forgets them like the items sent.
func (l *loader) recheckSenders(ctx context.Context, cs []*claim) error {
	asked := map[string][]string{} // sender -> recipients with items of theirs
	seen := map[string]bool{}      // recipient + "/" + sender
	for _, c := range cs {
		for i := range c.ids {
			s := senderAt(c.ids, c.senders, i)
			if s != "" && s != c.uid && !seen[key(c.uid, s)] {
				seen[key(c.uid, s)] = true
				asked[s] = append(asked[s], c.uid)
			}
		}
	}
	if len(asked) == 0 {
		return nil
	}
	if err := l.blocksOf(ctx, asked); err != nil {
		return fmt.Errorf("recheck blocks: %w", err)
	}
	for _, c := range cs {
		c.dropped = nil
		for i, id := range c.ids {
			if s := senderAt(c.ids, c.senders, i); s != "" && s != c.uid && l.blocks(s, c.uid) {
				if c.dropped == nil {
					c.dropped = map[string]bool{}
				}
				c.dropped[id] = true
			}
		}
	}
	return nil
}

// shown is how many items the notification counts: the claim's, less those dropped; only
// the mentions kept under the "mentions" level.
func (c *claim) shown() int {
	if c.mentionsOnly {
		n := 0
		for _, id := range c.mentionIDs {
			if !c.dropped[id] {
				n++
			}
		}
		return n
	}
	return max(c.count-len(c.dropped), 0)
}

// mentioned reports whether a mention of the recipient is among the items kept.
func (c *claim) mentioned() bool {
	return newestKept(c.mentionIDs, c.dropped) != ""
}

// newestKept returns the newest of ids not in dropped, "" when none is left.
func newestKept(ids []string, dropped map[string]bool) string {
	for i := len(ids) - 1; i >= 0; i-- {
		if !dropped[ids[i]] {
			return ids[i]
		}
	}
	return ""
}
