// The only Swift code that uses HDF5 (Debian's libhdf5-dev, through the CHDF5 shim): a read-only
// view of an HDF5 file as groups and datasets — what a NIR file is (Docs/nir.md) — and, for
// `snnc export-nir`, a writer of such a tree (HDF5Writer, at the end; also in a forked child).
//
// libhdf5 is not safe on hostile files (heap overflows in its global-heap reader, found by the
// `nir` fuzz target within seconds), so it never runs in snnc's own process: `open` forks a
// child that walks the file with libhdf5 (`snnc_hdf5_dump`, plain C in the shim) and writes
// every group and dataset to a pipe; the parent reads that dump with every length checked. A
// child that crashes, hangs past a deadline or writes garbage becomes an error here. Numbers
// arrive as float64 whatever their stored type (HDF5 converts), strings as UTF-8 whether stored
// with variable or fixed length.
import CHDF5
#if canImport(Glibc)
import Glibc
#endif

enum HDF5Error: Error, Equatable {
    case notHDF5, unreadable
    /// libhdf5 crashed or was stopped on the file (the signal), or hung past the deadline (0).
    case libraryFailed(signal: Int32)
}

final class HDF5File {
    enum Kind { case group, dataset, other }

    private var groups: Set<String> = []
    private var numeric: [String: (shape: [Int], values: [Double])] = [:]
    private var text: [String: (shape: [Int], values: [String])] = [:]
    private var other: Set<String> = []

    /// How long libhdf5 may take over one file.
    static let deadlineSeconds = 120
    /// The most the dump may hold (float64 values of a 2 GiB float32 file, and the strings).
    static let maxDumpBytes = 1 << 33

    /// The file's groups and datasets, or why they cannot be had.
    static func open(_ path: String) -> Result<HDF5File, HDF5Error> {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0, let cpath = strdup(path) else { return .failure(.unreadable) }
        defer { free(cpath) }
        let pid = fork()
        if pid == 0 {
            // The child: C only, then _exit (no Swift runtime, no atexit handlers).
            close(fds[0])
            _exit(snnc_hdf5_dump(cpath, fds[1]))
        }
        close(fds[1])
        guard pid > 0 else {
            close(fds[0])
            return .failure(.unreadable)
        }
        let (bytes, timedOut) = readAll(fds[0], deadline: deadlineSeconds, limit: maxDumpBytes)
        close(fds[0])
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut { return .failure(.libraryFailed(signal: 0)) }
        let signalled = status & 0x7f
        if signalled != 0 { return .failure(.libraryFailed(signal: signalled)) }
        switch (status >> 8) & 0xff {
        case 0: break
        case 2: return .failure(.notHDF5)
        case 3, 4: return .failure(.unreadable)
        default: return .failure(.libraryFailed(signal: 0))  // e.g. AddressSanitizer's exit code
        }
        guard let bytes, let f = HDF5File(dump: bytes) else { return .failure(.unreadable) }
        return .success(f)
    }

    /// Everything the child wrote, stopping at `limit` bytes or the deadline.
    private static func readAll(_ fd: Int32, deadline: Int, limit: Int) -> ([UInt8]?, Bool) {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        let end = time(nil) + deadline
        while true {
            let left = Int(end - time(nil))
            if left <= 0 { return (nil, true) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(min(left, 1000) * 1000))
            if r < 0 && errno == EINTR { continue }
            if r < 0 { return (nil, false) }
            if r == 0 { continue }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return (out, false) }
            if out.count + n > limit { return (nil, false) }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    /// Parses the child's dump (the record format of CHDF5/shim.h); nil if it is malformed or
    /// lacks its end record.
    private init?(dump b: [UInt8]) {
        var i = 0
        func u32() -> Int? {
            guard i + 4 <= b.count else { return nil }
            defer { i += 4 }
            return Int(b[i]) | Int(b[i + 1]) << 8 | Int(b[i + 2]) << 16 | Int(b[i + 3]) << 24
        }
        func u64() -> UInt64? {
            guard i + 8 <= b.count else { return nil }
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(b[i + k]) << (8 * UInt64(k)) }
            i += 8
            return v
        }
        func bytes(_ n: Int) -> ArraySlice<UInt8>? {
            guard n >= 0, n <= b.count - i else { return nil }
            defer { i += n }
            return b[i..<(i + n)]
        }
        func path() -> String? {
            guard let n = u32(), n <= 4096, let s = bytes(n) else { return nil }
            return String(decoding: s, as: UTF8.self)
        }
        func shape() -> (shape: [Int], count: Int)? {
            guard let rank = u32(), rank <= 8 else { return nil }
            var dims: [Int] = [], count = 1
            for _ in 0..<rank {
                guard let d = u64(), d <= 1 << 28 else { return nil }
                dims.append(Int(d))
                count *= Int(d)
                guard count <= 1 << 28 else { return nil }
            }
            return (dims, count)
        }
        while i < b.count {
            let tag = b[i]
            i += 1
            switch tag {
            case UInt8(ascii: "E"):
                if i != b.count { return nil }
                return
            case UInt8(ascii: "G"):
                guard let p = path() else { return nil }
                groups.insert(p)
            case UInt8(ascii: "X"):
                guard let p = path() else { return nil }
                other.insert(p)
            case UInt8(ascii: "N"):
                guard let p = path(), let (dims, count) = shape(), let raw = bytes(count * 8) else { return nil }
                let values = raw.withUnsafeBytes { r in (0..<count).map { Double(bitPattern: UInt64(littleEndian: r.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self))) } }
                numeric[p] = (dims, values)
            case UInt8(ascii: "S"):
                guard let p = path(), let (dims, count) = shape() else { return nil }
                var values: [String] = []
                for _ in 0..<count {
                    guard let m = u32(), m <= 1 << 20, let s = bytes(m) else { return nil }
                    values.append(String(decoding: s, as: UTF8.self))
                }
                text[p] = (dims, values)
            default:
                return nil
            }
        }
        return nil  // no end record: the child stopped early
    }

    /// What the object at `path` is, nil if there is none.
    func kind(_ path: String) -> Kind? {
        if groups.contains(path) { return .group }
        if numeric[path] != nil || text[path] != nil { return .dataset }
        return other.contains(path) ? .other : nil
    }

    /// The names of a group's members, in byte order of their names (HDF5's name index).
    func children(_ path: String) -> [String]? {
        guard groups.contains(path) else { return nil }
        let prefix = path == "/" ? "/" : path + "/"
        var names = Set<String>()
        for p in groups.union(numeric.keys).union(text.keys).union(other) where p.hasPrefix(prefix) && p != path {
            let rest = p.dropFirst(prefix.count)
            if let first = rest.split(separator: "/", omittingEmptySubsequences: false).first, !first.isEmpty { names.insert(String(first)) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// A numeric dataset as float64 (nil for strings or other types).
    func numbers(_ path: String) -> (shape: [Int], values: [Double])? { numeric[path] }

    /// A string dataset (scalar or array), element by element in row-major order.
    func strings(_ path: String) -> (shape: [Int], values: [String])? { text[path] }
}

/// A dataset to write (`HDF5Writer`): float64 or int64 numbers, or variable-length UTF-8 strings;
/// an empty shape is a scalar.
enum HDF5Dataset {
    case doubles(shape: [Int], [Double])
    case ints(shape: [Int], [Int64])
    case strings(shape: [Int], [String])
}

/// Writes a tree of groups and datasets (`snnc export-nir`). As for reading, libhdf5 runs only in
/// a forked child (`snnc_hdf5_write`, plain C in the shim), from a buffer of records built here;
/// the file is written beside its target and renamed into place, and objects carry no
/// modification times, so the same tree gives the same bytes.
enum HDF5Writer {
    /// Writes `datasets` (absolute paths; parent groups are created on first use) to `path`; nil
    /// on success, else why not.
    static func write(_ datasets: [(path: String, value: HDF5Dataset)], to path: String) -> String? {
        var buf: [UInt8] = []
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian) { buf += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { buf += $0 } }
        func head(_ tag: Character, _ p: String, _ shape: [Int]) {
            buf.append(tag.asciiValue!)
            u32(p.utf8.count)
            buf += Array(p.utf8)
            u32(shape.count)
            for d in shape { u64(UInt64(max(0, d))) }
        }
        for (p, value) in datasets {
            switch value {
            case .doubles(let shape, let v):
                head("D", p, shape)
                for x in v { u64(x.bitPattern) }
            case .ints(let shape, let v):
                head("I", p, shape)
                for x in v { u64(UInt64(bitPattern: x)) }
            case .strings(let shape, let v):
                head("S", p, shape)
                for x in v { u32(x.utf8.count); buf += Array(x.utf8) }
            }
        }
        buf.append(UInt8(ascii: "E"))
        let tmp = path + ".snnc-tmp-\(getpid())"
        unlink(tmp)
        guard let ctmp = strdup(tmp) else { return "out of memory" }
        defer { free(ctmp) }
        let pid = buf.withUnsafeBufferPointer { b -> pid_t in
            let pid = fork()
            // The child: C only, then _exit (no Swift runtime, no atexit handlers).
            if pid == 0 { _exit(snnc_hdf5_write(ctmp, b.baseAddress, b.count)) }
            return pid
        }
        guard pid > 0 else { return "cannot start the writer (\(String(cString: strerror(errno))))" }
        // Wait, at most `HDF5File.deadlineSeconds`.
        var status: Int32 = 0
        var waited = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { return "lost the writer process" }
            if waited >= HDF5File.deadlineSeconds * 100 {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                unlink(tmp)
                return "libhdf5 did not finish within \(HDF5File.deadlineSeconds) s"
            }
            usleep(10_000)
            waited += 1
        }
        let failed: String?
        if status & 0x7f != 0 {
            failed = "libhdf5 crashed writing it (signal \(status & 0x7f))"
        } else {
            switch (status >> 8) & 0xff {
            case 0: failed = rename(tmp, path) == 0 ? nil : "cannot move it into place (\(String(cString: strerror(errno))))"
            case 2: failed = "cannot create it"
            default: failed = "libhdf5 could not write it"
            }
        }
        if failed != nil { unlink(tmp) }
        return failed
    }
}
