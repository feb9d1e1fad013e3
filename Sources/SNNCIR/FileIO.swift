// Reading files: whole small files into memory, large binary files by memory mapping, and
// writing outputs atomically (temp file in the same directory, then rename).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum FileIOError: Error, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notARegularFile(path: String)
    case tooLarge(path: String, size: Int, limit: Int)
    case readFailed(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open '\(path)': \(reason)"
        case let .notARegularFile(path): return "'\(path)' is not a regular file"
        case let .tooLarge(path, size, limit): return "'\(path)' is \(size) bytes, more than the limit of \(limit)"
        case let .readFailed(path, reason): return "cannot read '\(path)': \(reason)"
        case let .writeFailed(path, reason): return "cannot write '\(path)': \(reason)"
        }
    }
}

private func errnoText() -> String { String(cString: strerror(errno)) }

/// Opens `path` for reading if it is a regular file. O_NONBLOCK keeps a FIFO (or a device) from
/// blocking the open until a writer comes; the type is checked on the open descriptor (no race
/// with a rename), and regular files ignore O_NONBLOCK for reads.
private func openRegularFile(_ path: String) throws(FileIOError) -> (fd: Int32, size: Int) {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    if fd < 0 { throw .cannotOpen(path: path, reason: errnoText()) }
    var st = stat()
    if fstat(fd, &st) != 0 {
        let reason = errnoText()
        close(fd)
        throw .cannotOpen(path: path, reason: reason)
    }
    if (st.st_mode & S_IFMT) != S_IFREG {
        close(fd)
        throw .notARegularFile(path: path)
    }
    return (fd, Int(st.st_size))
}

/// A read-only memory mapping of a whole file; unmapped when the last reference goes.
public final class MappedFile: @unchecked Sendable {
    // @unchecked: the mapping is read-only and immutable for the object's lifetime.
    public let path: String
    public let size: Int
    private let base: UnsafeMutableRawPointer?

    public init(path: String) throws(FileIOError) {
        self.path = path
        let (fd, size) = try openRegularFile(path)
        defer { close(fd) }
        self.size = size
        if size == 0 {
            base = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        if p == MAP_FAILED || p == nil { throw .readFailed(path: path, reason: errnoText()) }
        base = p
    }

    deinit {
        if let base { munmap(base, size) }
    }

    /// The file's bytes; valid while this object lives.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }
}

/// Reads a whole file into memory (for JSON and CSV, which json-c and the parsers need contiguous).
public func readWholeFile(_ path: String, limit: Int) throws(FileIOError) -> [UInt8] {
    let (fd, size) = try openRegularFile(path)
    defer { close(fd) }
    if size > limit { throw .tooLarge(path: path, size: size, limit: limit) }
    var out = [UInt8](repeating: 0, count: size)
    var done = 0
    while done < size {
        let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
        if n < 0 {
            if errno == EINTR { continue }
            throw .readFailed(path: path, reason: errnoText())
        }
        if n == 0 { break }
        done += n
    }
    if done < size { out.removeLast(size - done) }
    return out
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, then rename.
/// A failed write leaves no partial file behind.
public func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws(FileIOError) {
    let tmp = path + ".snnc-tmp-\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 { throw .writeFailed(path: path, reason: errnoText()) }
    if !writeLoop(fd, bytes) {
        let reason = errnoText()
        close(fd)
        unlink(tmp)
        throw .writeFailed(path: path, reason: reason)
    }
    if fsync(fd) != 0 || close(fd) != 0 {
        let reason = errnoText()
        unlink(tmp)
        throw .writeFailed(path: path, reason: reason)
    }
    if rename(tmp, path) != 0 {
        let reason = errnoText()
        unlink(tmp)
        throw .writeFailed(path: path, reason: reason)
    }
}

public func writeFileAtomically(_ path: String, _ text: String) throws(FileIOError) {
    try writeFileAtomically(path, Array(text.utf8))
}

/// Writes all of `text` to a file descriptor (stdout 1, stderr 2), unbuffered; stops quietly
/// when the descriptor is closed.
public func writeAll(_ fd: Int32, _ text: String) {
    _ = writeLoop(fd, Array(text.utf8))
}

/// Writes all of `bytes` to `fd`, retrying on EINTR; false (errno set) when a write fails or
/// the descriptor takes nothing.
private func writeLoop(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        done += n
    }
    return true
}

public func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}

/// The directory part of a path ("." when there is none).
public func directoryOf(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
}

/// `name` resolved against `directory` unless it is absolute.
public func resolvePath(_ name: String, relativeTo directory: String) -> String {
    if name.hasPrefix("/") { return name }
    return directory == "." ? name : directory + "/" + name
}

/// The names in a directory, without "." and ".." (in the order the file system gives); nil
/// when it cannot be read.
public func directoryEntries(_ path: String) -> [String]? {
    guard let d = opendir(path) else { return nil }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
        let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// Removes a directory that holds plain files only (an artefact, a scratch directory).
public func removeDirectoryOfFiles(_ path: String) {
    for n in directoryEntries(path) ?? [] { unlink(path + "/" + n) }
    rmdir(path)
}
