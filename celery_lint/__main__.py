from .doors.entry import main

raise SystemExit(main())
