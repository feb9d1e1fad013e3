#if canImport(Glibc)
import Glibc
#endif

/// Minimal unbuffered writes to stdout/stderr (no Foundation needed in the CLI).
struct FileHandle {
    let fd: Int32
    static let standardOutput = FileHandle(fd: 1)
    static let standardError = FileHandle(fd: 2)

    func write(_ s: String) {
        var bytes = Array(s.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { return }
            done += n
        }
    }
}
