package model

import "testing"

func TestCanLiftBanAndRedact(t *testing.T) {
	ranks := []Rank{RankMember, RankModerator, RankOwner, RankAppAdmin}
	for i, actor := range ranks {
		for j, other := range ranks {
			// Moderators and above act on their own rank and below.
			want := i >= 1 && i >= j
			if got := CanLiftBan(actor, other); got != want {
				t.Errorf("CanLiftBan(%s, %s) = %v, want %v", actor, other, got, want)
			}
			if got := CanRedact(actor, other); got != want {
				t.Errorf("CanRedact(%s, %s) = %v, want %v", actor, other, got, want)
			}
		}
	}
	for _, bad := range []Rank{"", "root", "Owner"} {
		if CanLiftBan(bad, RankMember) || CanRedact(bad, RankMember) {
			t.Errorf("unknown actor rank %q may act, want not", bad)
		}
		if CanLiftBan(RankAppAdmin, bad) || CanRedact(RankAppAdmin, bad) {
			t.Errorf("action on unknown rank %q allowed, want not (callers map unknown ranks first)", bad)
		}
	}
}

func TestRoleRank(t *testing.T) {
	tests := []struct {
		role Role
		want Rank
	}{
		{RoleOwner, RankOwner}, {RoleAdmin, RankModerator}, {RoleMember, RankMember}, {"", RankMember}, {"boss", RankMember},
	}
	for _, tt := range tests {
		if got := RoleRank(tt.role); got != tt.want {
			t.Errorf("RoleRank(%q) = %q, want %q", tt.role, got, tt.want)
		}
	}
}

func TestBanRank(t *testing.T) {
	tests := []struct {
		stored Rank
		want   Rank
	}{
		{RankModerator, RankModerator},
		{RankOwner, RankOwner},
		{RankAppAdmin, RankAppAdmin},
		// Bans from before ranks were recorded, or with a rank this version
		// does not know, fail closed: only an app admin lifts them.
		{"", RankAppAdmin},
		{"superuser", RankAppAdmin},
		{RankMember, RankAppAdmin},
	}
	for _, tt := range tests {
		m := Member{Banned: true, BannedBy: "x", BannedByRank: tt.stored}
		if got := m.BanRank(); got != tt.want {
			t.Errorf("Member{BannedByRank: %q}.BanRank() = %q, want %q", tt.stored, got, tt.want)
		}
	}
}
