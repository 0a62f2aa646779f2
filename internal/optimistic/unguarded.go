package optimistic

import "cloud.google.com/go/firestore"

// Apply adds updates of ref, which must exist, to the commit without a guard: for
// writes that commute (increments of counters kept exact by a guarded marker written in
// the same commit) on a document too busy to guard — every reaction of a popular
// message would otherwise conflict with every other. A missing document fails the
// commit like a conflict, and the attempt runs again.
func (w *Writes) Apply(ref *firestore.DocumentRef, updates []firestore.Update) {
	if len(updates) == 0 {
		return
	}
	w.ops = append(w.ops, func(b *firestore.WriteBatch) {
		b.Update(ref, updates) // Update requires the document to exist
	})
}

// Set adds a whole-document write of ref without a guard: for documents whose content
// does not depend on what was read (a membership record written again with the same
// meaning), so that racing writers cannot disagree.
func (w *Writes) Set(ref *firestore.DocumentRef, data any) {
	w.ops = append(w.ops, func(b *firestore.WriteBatch) { b.Set(ref, data) })
}
