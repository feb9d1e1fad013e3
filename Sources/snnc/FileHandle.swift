import SNNCIR
#if canImport(Glibc)
import Glibc
#endif

/// Minimal unbuffered writes to stdout/stderr (no Foundation needed in the CLI).
struct FileHandle {
    let fd: Int32
    static let standardOutput = FileHandle(fd: 1)
    static let standardError = FileHandle(fd: 2)

    func write(_ s: String) { writeAll(fd, s) }
}
