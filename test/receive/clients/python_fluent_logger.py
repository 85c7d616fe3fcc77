"""A real client for the interop test: Debian's python3-fluent-logger (run with /usr/bin/python3).
argv: port count. Sends `count` events with nanosecond EventTime (the library's own EventTime
from a float) and prints, as JSON, the [sec, nsec] the library put in each event."""
import json
import struct
import sys

from fluent import sender

port, count = int(sys.argv[1]), int(sys.argv[2])
s = sender.FluentSender('py', host='127.0.0.1', port=port, nanosecond_precision=True)
times = []
for i in range(count):
    ts = 1700000000 + i + (i % 1000) / 1000.0 + 0.000123
    times.append(list(struct.unpack('>II', sender.EventTime(ts).data)))
    if not s.emit_with_time('t%d' % (i % 3), ts, {'seq': i, 'message': 'python line %d \u00fcn\u00efc\u00f6d\u00e9' % i, 'nested': {'list': [i, 'x', True, None]}}):
        print('emit failed: %r' % s.last_error, file=sys.stderr)
        sys.exit(2)
s.close()
print(json.dumps(times))
