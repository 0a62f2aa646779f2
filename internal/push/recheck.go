package push

import (
	"context"
	"fmt"

	"cloud.google.com/go/firestore"
	"github.com/hearth-chat/hearth/internal/model"
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

// recheckSenders drops from each claim the items whose sender its recipient blocks now
// (users/{uid}/blocks/{sender}): a block made after the items were queued holds for the
// digest. One batched read covers every distinct (recipient, sender) pair of cs; items
// without a recorded sender are kept. The dropped items stay covered by the claim, so
// completing it forgets them like the items sent.
func (l *loader) recheckSenders(ctx context.Context, cs []*claim) error {
	type pair struct{ uid, sender string }
	blocked := map[pair]bool{}
	var w want
	for _, c := range cs {
		for i := range c.ids {
			p := pair{c.uid, senderAt(c.ids, c.senders, i)}
			if _, seen := blocked[p]; seen || p.sender == "" || p.sender == p.uid || model.ValidateID("senderId", p.sender) != nil {
				continue
			}
			blocked[p] = false
			w.add(l.n.db, model.BlockPath(p.uid, p.sender), false, func(snap *firestore.DocumentSnapshot) error {
				blocked[p] = snap.Exists() // called with l.mu held
				return nil
			})
		}
	}
	if len(w.refs) == 0 {
		return nil
	}
	if err := l.fetch(ctx, &w); err != nil {
		return fmt.Errorf("recheck blocks: %w", err)
	}
	for _, c := range cs {
		c.dropped = nil
		for i, id := range c.ids {
			if blocked[pair{c.uid, senderAt(c.ids, c.senders, i)}] {
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
