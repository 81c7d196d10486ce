package sqlite_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/provisiond/provisiond/provisioning/store/storetest"
)

// After a purge, the bytes of the database file and of its WAL hold nothing of the tenant: not
// in a table, not in a freed page or the free space of a page (secure_delete zeroes them), not
// in an old frame of the WAL (the purge empties it). The files are read raw, while the store is
// open, as an attacker with a copy of them would.
func TestPurgeLeavesNoTraceInTheFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "provisiond.db")
	s := open(t, path)
	defer s.Close()
	storetest.CheckPurgeLeavesNoTrace(t, s, func(t *testing.T) []byte {
		var all []byte
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			b, err := os.ReadFile(path + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		return all
	})
}
