package push

import (
	"context"
	"fmt"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"golang.org/x/sync/errgroup"

	"github.com/hearth-chat/hearth/internal/model"
)

// badgeTimeout bounds the badge aggregations of one round of a fan-out.
const badgeTimeout = 3 * time.Second

// getAllChunk is how many documents one BatchGetDocuments call asks for.
const getAllChunk = 300

// loader reads, once per fan-out, the documents the notifications need: rooms, the
// recipients' memberships, presence, profiles (settings), their devices, the featured
// messages and their senders' names; and, for the recipients actually pushed, their
// badge numbers (badges). A nil map value records a document that does not exist (for
// badges: a sum that could not be read), so it is not asked for again.
type loader struct {
	n           *Notifier
	mu          sync.Mutex
	rooms       map[string]*model.Room
	memberships map[string]*model.Membership // uid + "/" + roomID
	presence    map[string]*model.Presence
	users       map[string]*model.User
	badges      map[string]*int           // uid -> badge number; nil: could not be read
	messages    map[string]*model.Message // roomID + "/" + messageID
	devices     map[string][]device
	// blockers holds the senders' blockers index (blockers/{sender}) read by blocksOf,
	// blocked the block docs it reads when an index overflowed: recipient + "/" + sender.
	blockers map[string]*model.Blockers
	blocked  map[string]*model.Block
}

func (n *Notifier) newLoader() *loader {
	return &loader{
		n:           n,
		rooms:       map[string]*model.Room{},
		memberships: map[string]*model.Membership{},
		presence:    map[string]*model.Presence{},
		users:       map[string]*model.User{},
		badges:      map[string]*int{},
		messages:    map[string]*model.Message{},
		devices:     map[string][]device{},
		blockers:    map[string]*model.Blockers{},
		blocked:     map[string]*model.Block{},
	}
}

// next returns a loader for a further round of the same fan-out: rooms and profiles are
// kept, state that may have moved (read pointers, presence, badge, devices) is not.
func (l *loader) next() *loader {
	nl := l.n.newLoader()
	nl.rooms, nl.users = l.rooms, l.users
	return nl
}

func key(a, b string) string { return a + "/" + b }

// want is a set of document paths to fetch, each with the function that stores it.
type want struct {
	refs  []*firestore.DocumentRef
	store []func(*firestore.DocumentSnapshot) error
}

// add queues path unless it is already loaded (has reports that).
func (w *want) add(db *firestore.Client, path string, have bool, store func(*firestore.DocumentSnapshot) error) {
	if have {
		return
	}
	w.refs = append(w.refs, db.Doc(path))
	w.store = append(w.store, store)
}

// fetch reads every queued document with GetAll, in chunks, a few at a time.
func (l *loader) fetch(ctx context.Context, w *want) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for start := 0; start < len(w.refs); start += getAllChunk {
		end := min(start+getAllChunk, len(w.refs))
		g.Go(func() error {
			snaps, err := l.n.db.GetAll(gctx, w.refs[start:end])
			if err != nil {
				return fmt.Errorf("get %d documents: %w", end-start, err)
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			for i, snap := range snaps {
				if err := w.store[start+i](snap); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// decodeInto returns a store function that decodes an existing document into a new T and
// puts it (or nil for a missing one) in m[k]. Called with l.mu held.
func decodeInto[T any](m map[string]*T, k string) func(*firestore.DocumentSnapshot) error {
	return func(snap *firestore.DocumentSnapshot) error {
		if !snap.Exists() {
			m[k] = nil
			return nil
		}
		var v T
		if err := snap.DataTo(&v); err != nil {
			return fmt.Errorf("decode %s: %w", snap.Ref.Path, err)
		}
		m[k] = &v
		return nil
	}
}

func has[T any](m map[string]*T, k string) bool {
	_, ok := m[k]
	return ok
}

// recipients loads the memberships of uids in roomID and their presence: what the
// message trigger needs to choose recipients.
func (l *loader) recipients(ctx context.Context, roomID string, uids []string) error {
	db := l.n.db
	var w want
	for _, uid := range uids {
		w.add(db, model.MembershipPath(uid, roomID), has(l.memberships, key(uid, roomID)), decodeInto(l.memberships, key(uid, roomID)))
		w.add(db, model.PresencePath(uid), has(l.presence, uid), decodeInto(l.presence, uid))
	}
	return l.fetch(ctx, &w)
}

// blocksOf loads whether each recipient listed under a sender in asked blocks that
// sender: one read of each sender's blockers index (blockers/{sender}; none: nobody
// blocks them), and, for the senders whose index overflowed, of the block documents
// users/{uid}/blocks/{sender}. Two batched reads at most; documents the loader already
// holds (the message stage's, for an immediate send) are not read again. Senders that
// are no valid uid (system messages) are blocked by nobody.
func (l *loader) blocksOf(ctx context.Context, asked map[string][]string) error {
	db := l.n.db
	var idx want
	for sender, uids := range asked {
		if model.ValidateID("senderId", sender) == nil && len(uids) > 0 {
			idx.add(db, model.BlockersPath(sender), has(l.blockers, sender), decodeInto(l.blockers, sender))
		}
	}
	if err := l.fetch(ctx, &idx); err != nil {
		return err
	}
	var w want
	for sender, uids := range asked {
		if ix, ok := l.blockers[sender]; !ok || ix.Exact() {
			continue
		}
		for _, uid := range uids {
			w.add(db, model.BlockPath(uid, sender), has(l.blocked, key(uid, sender)), decodeInto(l.blocked, key(uid, sender)))
		}
	}
	return l.fetch(ctx, dedupeWant(&w))
}

// blocks reports whether recipient blocks sender, as blocksOf read it.
func (l *loader) blocks(sender, recipient string) bool {
	if idx, ok := l.blockers[sender]; ok && idx.Exact() {
		return idx.Blocks(recipient)
	}
	return l.blocked[key(recipient, sender)] != nil
}

// claims loads everything needed to render and send cs.
func (l *loader) claims(ctx context.Context, cs []*claim) error {
	if err := l.recheckSenders(ctx, cs); err != nil {
		return err
	}
	db := l.n.db
	var w want
	for _, c := range cs {
		w.add(db, model.RoomPath(c.roomID), has(l.rooms, c.roomID), decodeInto(l.rooms, c.roomID))
		w.add(db, model.MembershipPath(c.uid, c.roomID), has(l.memberships, key(c.uid, c.roomID)), decodeInto(l.memberships, key(c.uid, c.roomID)))
		w.add(db, model.PresencePath(c.uid), has(l.presence, c.uid), decodeInto(l.presence, c.uid))
		w.add(db, model.UserPath(c.uid), has(l.users, c.uid), decodeInto(l.users, c.uid))
		if id := messageOf(c.featuredID()); id != "" {
			k := key(c.roomID, id)
			w.add(db, model.MessagePath(c.roomID, id), has(l.messages, k), decodeInto(l.messages, k))
		}
	}
	if err := l.fetch(ctx, dedupeWant(&w)); err != nil {
		return err
	}
	// Second round: the names of the senders, and of the other member of direct rooms.
	var names want
	seen := map[string]bool{}
	addName := func(uid string) {
		if uid == "" || seen[uid] {
			return
		}
		seen[uid] = true
		names.add(db, model.UserPath(uid), has(l.users, uid), decodeInto(l.users, uid))
	}
	for _, c := range cs {
		if m := l.messages[key(c.roomID, messageOf(c.featuredID()))]; m != nil {
			addName(m.SenderID)
		}
		if r, ok := parseQueued(c.featuredID()); ok {
			addName(r.reactor)
		}
		if r := l.rooms[c.roomID]; r != nil && r.Type == model.RoomDirect {
			addName(otherMember(r, c.uid))
		}
	}
	if err := l.fetch(ctx, &names); err != nil {
		return err
	}
	return l.loadDevices(ctx, cs)
}

// loadBadges computes the badge number of each of uids not already known: one sum
// aggregation over the recipient's inbox entries each (inbox.Badge), Concurrency at a
// time, all within badgeTimeout. A badge that fails or runs out of time is recorded as
// nil: the push goes without a badge number rather than not at all.
func (l *loader) loadBadges(ctx context.Context, uids []string) {
	ctx, cancel := context.WithTimeout(ctx, badgeTimeout)
	defer cancel()
	var g errgroup.Group
	g.SetLimit(l.n.cfg.Concurrency)
	var failed int
	var firstErr error
	for _, uid := range uids {
		l.mu.Lock()
		_, done := l.badges[uid]
		if !done {
			l.badges[uid] = nil // claimed: asked once per loader
		}
		l.mu.Unlock()
		if done {
			continue
		}
		g.Go(func() error {
			b, err := l.n.badgeOf(ctx, uid)
			l.mu.Lock()
			defer l.mu.Unlock()
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
				return nil
			}
			l.badges[uid] = &b
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through failed
	if failed > 0 {
		l.n.log.Warn("badge numbers unavailable: pushing without them", "recipients", failed, "err", firstErr)
	}
}

// dedupeWant drops repeated paths (many claims share a room or a featured message).
func dedupeWant(w *want) *want {
	seen := make(map[string]bool, len(w.refs))
	out := &want{}
	for i, ref := range w.refs {
		if seen[ref.Path] {
			continue
		}
		seen[ref.Path] = true
		out.refs = append(out.refs, ref)
		out.store = append(out.store, w.store[i])
	}
	return out
}

// loadDevices lists users/{uid}/devices of every recipient of cs, Concurrency queries at
// a time.
func (l *loader) loadDevices(ctx context.Context, cs []*claim) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.n.cfg.Concurrency)
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.uid] {
			continue
		}
		seen[c.uid] = true
		l.mu.Lock()
		_, done := l.devices[c.uid]
		l.mu.Unlock()
		if done {
			continue
		}
		uid := c.uid
		g.Go(func() error {
			snaps, err := l.n.db.Collection(model.DevicesCollectionPath(uid)).Documents(gctx).GetAll()
			if err != nil {
				return fmt.Errorf("list devices of %s: %w", uid, err)
			}
			devs := make([]device, 0, len(snaps))
			for _, snap := range snaps {
				var d model.Device
				if err := snap.DataTo(&d); err != nil {
					l.n.log.Warn("undecodable device", "path", snap.Ref.Path, "err", err)
					continue
				}
				devs = append(devs, device{uid: uid, id: snap.Ref.ID, token: d.Token, platform: d.Platform, registered: d.UpdatedAt, updated: snap.UpdateTime})
			}
			l.mu.Lock()
			l.devices[uid] = devs
			l.mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// otherMember returns the member of a direct room who is not uid.
func otherMember(r *model.Room, uid string) string {
	for _, m := range r.MemberIDs {
		if m != uid {
			return m
		}
	}
	return ""
}

// displayName returns uid's display name, or "" when the profile is unknown.
func (l *loader) displayName(uid string) string {
	if u := l.users[uid]; u != nil {
		return u.DisplayName
	}
	return ""
}
