// snnc-fuzz: the libFuzzer entry point for the targets in SNNCFuzz (Docs/fuzzing.md).
//
// Built by Tests/Fuzz/run.sh with -DSNNC_FUZZ -sanitize=fuzzer,address: libFuzzer supplies
// main() and calls LLVMFuzzerTestOneInput; the target comes from SNNC_FUZZ_TARGET.
// In every normal build it is a small tool instead:
//   snnc-fuzz replay TARGET FILE…   run files through a target, print each outcome
//   snnc-fuzz pack NAME=FILE…       write a container (several files in one input) to stdout
#if canImport(Glibc)
import Glibc
#endif
import SNNCFuzz
import SNNCIR

/// Writes to a file descriptor (stdio's FILE globals are not concurrency-safe in Swift 6).
private func put(_ fd: Int32, _ bytes: [UInt8]) {
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        if n <= 0 { return }
        done += n
    }
}

#if SNNC_FUZZ
nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    if selected == nil {
        let name = getenv("SNNC_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let t = FuzzTarget(rawValue: name) else {
            put(2, Array("snnc-fuzz: set SNNC_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        selected = t
    }
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    _ = Fuzz.run(selected!, bytes)
    return 0
}

// SwiftPM links an executable's entry point as `main = snnc_fuzz_main`; here that entry hands
// control to libFuzzer's driver (LLVMFuzzerRunDriver, part of libFuzzer since LLVM 11), so
// libFuzzer's own main() is never pulled in.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("snnc_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v, fuzzOneInput)
}
#else
@main
struct FuzzTool {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        func usage() -> Never {
            put(2, Array("usage: snnc-fuzz replay TARGET FILE…   (targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))\n       snnc-fuzz pack NAME=FILE… > container\n".utf8))
            exit(2)
        }
        guard let verb = args.first else { usage() }
        switch verb {
        case "replay":
            guard args.count >= 3, let t = FuzzTarget(rawValue: args[1]) else { usage() }
            for path in args.dropFirst(2) {
                guard let b = try? readWholeFile(path, limit: 1 << 30) else {
                    print("\(path): cannot read")
                    exit(1)
                }
                let o = Fuzz.run(t, b)
                print("\(path): \(o.accepted ? "accepted" : "refused") \(o.ids.joined(separator: " "))")
            }
        case "pack":
            var files: [(name: String, bytes: [UInt8])] = []
            for a in args.dropFirst() {
                guard let eq = a.firstIndex(of: "="), let b = try? readWholeFile(String(a[a.index(after: eq)...]), limit: 1 << 30) else { usage() }
                files.append((String(a[..<eq]), b))
            }
            put(1, FuzzContainer.pack(files))
        default:
            usage()
        }
    }
}
#endif
