// zlib (Debian zlib1g-dev), wrapped once: gunzip for gzip'd data sets, raw inflate for .npz
// entries, and reading the zlib format of the artefact's core images (cores.bin); libdeflate
// (Debian libdeflate-dev), wrapped once: writing them. Every size is bounded before anything is
// allocated.
import CLibDeflate
import CZlib

public struct ZlibError: Error, Sendable {
    public var message: String
}

public enum Zlib {
    /// A gzip stream's contents, at most `limit` bytes.
    public static func gunzip(_ raw: [UInt8], limit: Int) -> Result<[UInt8], ZlibError> {
        var out: [UInt8] = []
        var strm = z_stream()
        guard inflateInit2_(&strm, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return .failure(ZlibError(message: "cannot start gunzip")) }
        defer { inflateEnd(&strm) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        raw.withUnsafeBufferPointer { inp in
            strm.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
            strm.avail_in = UInt32(inp.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { c in
                    strm.next_out = c.baseAddress
                    strm.avail_out = UInt32(c.count)
                    status = CZlib.inflate(&strm, Z_NO_FLUSH)
                    out.append(contentsOf: c.prefix(c.count - Int(strm.avail_out)))
                }
            } while status == Z_OK && out.count <= limit
        }
        guard status == Z_STREAM_END else {
            return .failure(ZlibError(message: "the gzip stream is \(out.count > limit ? "larger than \(limit) bytes" : "corrupt or truncated")"))
        }
        return .success(out)
    }

    /// A raw deflate stream (windowBits −15) of exactly `expected` bytes; nil if it is not.
    public static func inflateRaw(_ data: ArraySlice<UInt8>, expected: Int) -> [UInt8]? {
        inflate(data, expected: expected, windowBits: -15)
    }

    /// A zlib stream (RFC 1950) of exactly `expected` bytes; nil if it is not.
    public static func inflateZlib(_ data: ArraySlice<UInt8>, expected: Int) -> [UInt8]? {
        inflate(data, expected: expected, windowBits: 15)
    }

    static func inflate(_ data: ArraySlice<UInt8>, expected: Int, windowBits: Int32) -> [UInt8]? {
        guard expected >= 0, expected < Int(UInt32.max), data.count < Int(UInt32.max) else { return nil }
        var out = [UInt8](repeating: 0, count: max(expected, 1))
        var strm = z_stream()
        guard inflateInit2_(&strm, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&strm) }
        var status: Int32 = Z_OK
        data.withUnsafeBufferPointer { inp in
            out.withUnsafeMutableBufferPointer { o in
                strm.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
                strm.avail_in = UInt32(inp.count)
                strm.next_out = o.baseAddress
                strm.avail_out = UInt32(o.count)
                status = CZlib.inflate(&strm, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(strm.total_out) == expected else { return nil }
        return Array(out.prefix(expected))
    }

    /// The zlib stream (RFC 1950) of `bytes` at compression `level` (1 fastest … 12 smallest),
    /// written by libdeflate: the same bytes for the same input on every run and thread.
    public static func deflate(_ bytes: [UInt8], level: Int32 = 1) -> [UInt8] {
        guard let c = libdeflate_alloc_compressor(level) else { preconditionFailure("libdeflate cannot allocate a compressor (out of memory)") }
        defer { libdeflate_free_compressor(c) }
        let bound = libdeflate_zlib_compress_bound(c, bytes.count)
        var out = [UInt8](repeating: 0, count: bound)
        let size = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { i in libdeflate_zlib_compress(c, i.baseAddress, i.count, o.baseAddress, o.count) }
        }
        precondition(size > 0, "libdeflate cannot fail with a bound-sized buffer")
        out.removeLast(bound - size)
        return out
    }
}
