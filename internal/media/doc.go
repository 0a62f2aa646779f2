// Package media is Hearth's media pipeline: clients never write to Cloud Storage
// directly. Hearth hands out narrowly scoped V4 signed URLs, checks what arrives, and
// signs short-lived download URLs for room members.
//
// The flow (docs/media.md has the client's side, with curl):
//
//  1. POST /v1/uploads → Issuer.IssueUpload: the caller must be a member of the room and
//     not banned, the content type on the allow-list, the size within the per-type limit
//     and the daily quota. The upload is recorded in uploads/{id} (backend only) and a
//     V4 PUT URL for media/{roomId}/{uid}/{id}.{ext} is signed, binding Content-Type,
//     x-goog-content-length-range to exactly the declared size, and
//     x-goog-if-generation-match: 0 (the URL creates the object once and can never
//     replace it), valid 15 minutes.
//  2. The client PUTs the bytes, then writes its message with media.status "pending".
//  3. Storage reports the finalized object (Eventarc CloudEvent in production, Pub/Sub
//     through the local storage's notifications in development: Processor.Handler and
//     Service.Run reach the same Processor.HandleFinalize). The event only names the
//     object: the processor reads the stored object back (live generation, size, MD5,
//     type) and acts on that, so a forged event can at most cause a recheck. It sniffs the real
//     type and checks the size; a mismatch deletes the object and marks the message media
//     "rejected". Images are decoded within pixel limits, turned upright (EXIF
//     orientation), stripped of metadata (GPS!) and rewritten, and get a 320 px JPEG
//     thumbnail under thumbs/; the message media gets width, height, thumbnailPath and
//     status "ready". The checked generation is recorded (Upload.Generation, and
//     Upload.StoredGeneration after Hearth's rewrite); any other generation of a settled
//     upload's object is deleted when its event arrives.
//  4. GET /v1/media/{objectPath} → Issuer.Download: members get a 302 to a signed GET URL
//     pinned to Upload.StoredGeneration.
//  5. An upload that never arrives must not leave its message pending forever:
//     Processor.ExpireUploads, which Service.Run calls every Config.ExpireInterval, takes
//     the uploads still pending Config.ExpireGrace after their URL expired. If the object
//     is there (its finalize event was lost) it is processed as in step 3; otherwise the
//     upload and its messages are marked "rejected" (RejectNeverUploaded), written only
//     while the record is still pending and for no object generation, so that a late
//     finalize event wins either way.
//
// Videos and audio are not decoded, but MP4/QuickTime/M4A and MP3 uploads lose their
// metadata (location first) without re-encoding: metadata boxes become free space of
// the same size, tags are cut off (cleanOpaque; docs/media.md lists every format).
//
// The message may be written before or after the processing ends. The result is stored
// on the upload record first, then every message whose media.path names the object is
// updated; a message created later picks the result up from the record through
// Processor.HandleMessageEvent (a Firestore trigger on message creation). Because the
// record is written before the messages are searched, one of the two always sees the
// other.
package media
