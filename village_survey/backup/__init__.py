"""Backups: one archive of the database, the survey photos and the final PDF reports; and its restore
into an empty instance.

    archive.py    the tar file, its manifest.json and the SHA-256 of every member (plain Python)
    database.py   the database snapshot and its restore: SQLite's online backup API, pg_dump/pg_restore
    services.py   make_backup(settings, output, progress) and restore_backup(settings, archive, progress)
    cli.py        `flask backup -o FILE` and `flask restore FILE`

Consistency: the database is snapshotted first; then exactly the files the snapshot's rows name are
copied. A report's file is written before its row; a photo's is written under a temporary
`.pending` name before its row commits and renamed just after the commit, so a file the snapshot
names is there, or (a moment later, or after a crash between commit and rename) under that
temporary name, taken if its SHA-256 is the row's (services._committed_file); one that is not is
listed as missing in the manifest. Files written after the snapshot are not in the archive, so a
restore leaves no orphans.
"""
