// The compiled artefact's format (Docs/artefact.md), owned here and used by both its writer
// (SNNCDriver/Artefact.swift) and its reader (SNNCEmulator/ArtefactReader.swift): file names,
// magic numbers, the manifest and its verification, the little-endian byte helpers.
import CLibCrypto
import SNNCIR
import SNNCJSON

public enum ArtefactFormat {
    public static let format = "snnc-artefact"
    /// 2: the manifest hashes itself (`manifest_sha256`) and the emulator verifies it.
    /// 3: the compiler emits every core's image (`cores.bin`); the emulator no longer builds
    /// synapse memory from the layers' weights.
    public static let version = 3

    public static let manifest = "manifest.json"
    public static let layers = "layers.json"
    public static let cores = "cores.json"
    public static let axonTables = "axon-tables.bin"
    public static let weights = "weights.bin"
    public static let host = "host.bin"
    /// Every core's image (CoreImage.swift): "SNNCCOR1", then the images at the offsets cores.json gives.
    public static let coreImages = "cores.bin"
    /// The source model's JSON, copied (the float reference of `snnc emulate --check` runs from it).
    public static let sourceModel = "source-model.json"
    /// The same for a model read from ONNX (its external data file beside it under its own name).
    public static let sourceModelONNX = "source-model.onnx"
    /// The same for a model read from NIR, with how it was read (`--nir-convention`, `--nir-dt`).
    public static let sourceModelNIR = "source-model.nir", sourceOptions = "source-options.json"
    /// Names the writer uses itself; a copied weights file never takes one of them.
    public static let reserved: Set<String> = [sourceModel, sourceModelONNX, sourceModelNIR, sourceOptions, manifest, layers, cores, axonTables, weights, host, coreImages, "routing.json",
                                              "routing.txt", "quantization.json", "report.json", "report.md", "report.svg"]

    public static let weightsMagic = "SNNCWTS1", tablesMagic = "SNNCAXT1", hostMagic = "SNNCHST1", coreImagesMagic = "SNNCCOR1"

    /// Hex SHA-256 of bytes (OpenSSL's EVP one-shot digest; the only call into libcrypto).
    public static func sha256(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { src in
            digest.withUnsafeMutableBufferPointer { EVP_Digest(src.baseAddress, src.count, $0.baseAddress, &length, EVP_sha256(), nil) }
        }
        // EVP_Digest fails only when libcrypto cannot allocate its context; a hash of zeros would
        // be a silent lie in a manifest, so that is the one unrecoverable condition here.
        precondition(ok == 1 && length == 32, "libcrypto's SHA-256 failed")
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8](); out.reserveCapacity(64)
        for b in digest { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: the manifest

    static let selfKey = "manifest_sha256"
    static let placeholder = String(repeating: "0", count: 64)

    /// The manifest's bytes: `fields` first, then every file with its size and SHA-256, then its
    /// own SHA-256 — computed over these bytes with the hash written as 64 zeros.
    public static func manifestBytes(_ fields: [(String, JSONOutput)], files: [(String, [UInt8])]) -> [UInt8] {
        let listed = JSONOutput.array(files.map { .object([("name", .string($0.0)), ("bytes", .int($0.1.count)), ("sha256", .string(sha256($0.1)))]) })
        let text = JSONOutput.object([("format", .string(format)), ("version", .int(version))] + fields + [("files", listed), (selfKey, .string(placeholder))]).serialized()
        let bytes = Array(text.utf8)
        guard let at = selfHashOffset(bytes) else { return bytes }
        var out = bytes
        out.replaceSubrange(at..<(at + 64), with: Array(sha256(bytes).utf8))
        return out
    }

    /// Where the 64 hex digits of `"manifest_sha256": "…"` start (the last occurrence).
    static func selfHashOffset(_ b: [UInt8]) -> Int? {
        let key = Array("\"\(selfKey)\"".utf8)
        guard b.count >= key.count + 64 else { return nil }
        var i = b.count - key.count
        while i >= 0 {
            if b[i] == key[0], Array(b[i..<(i + key.count)]) == key {
                var j = i + key.count
                while j < b.count, b[j] == 0x20 || b[j] == 0x3A { j += 1 }  // spaces and the colon
                guard j < b.count, b[j] == 0x22, j + 65 < b.count, b[j + 65] == 0x22 else { return nil }
                return j + 1
            }
            i -= 1
        }
        return nil
    }

    /// Checks an artefact directory against its manifest before anything reads it: the manifest
    /// hashes itself correctly, is this format and version, and every file it lists is present
    /// with its size and SHA-256. The error names the file and what differs.
    public static func verify(_ dir: String) throws(ArtefactError) {
        let path = dir + "/" + manifest
        let bytes: [UInt8]
        do { bytes = try readWholeFile(path, limit: 1 << 26) } catch {
            throw ArtefactError(file: path, message: "\(error); give a directory written by `snnc compile`")
        }
        guard let at = selfHashOffset(bytes) else {
            throw ArtefactError(file: path, message: "no '\(selfKey)' field (an artefact of an older snnc, or damaged); compile again")
        }
        var zeroed = bytes
        zeroed.replaceSubrange(at..<(at + 64), with: Array(placeholder.utf8))
        let stated = String(decoding: bytes[at..<(at + 64)], as: UTF8.self)
        guard sha256(zeroed) == stated else {
            throw ArtefactError(file: path, message: "the manifest's own SHA-256 does not match its bytes: it was changed after `snnc compile` wrote it")
        }
        let doc: JSONDocument
        do { doc = try JSONDocument.parse(bytes) } catch { throw ArtefactError(file: path, message: error.message) }
        let root = doc.root
        guard root["format"]?.string == format else { throw ArtefactError(file: path, message: "field 'format' must be \"\(format)\"") }
        guard let v = root["version"]?.int else { throw ArtefactError(file: path, message: "field 'version' is missing") }
        guard v == version else {
            throw ArtefactError(file: path, message: "artefact format version \(v); this snnc reads version \(version): compile again")
        }
        guard let files = root["files"], files.kind == .array, files.count > 0 else {
            throw ArtefactError(file: path, message: "field 'files' (the list of the artefact's files) is missing or empty")
        }
        for (i, f) in files.elements.enumerated() {
            guard let name = f["name"]?.string, !name.isEmpty, !name.contains("/"), name != "." && name != "..",
                  let size = f["bytes"]?.int, let hash = f["sha256"]?.string else {
                throw ArtefactError(file: path, message: "files[\(i)] needs 'name' (a plain file name), 'bytes' and 'sha256'")
            }
            let fp = dir + "/" + name
            let content: [UInt8]
            do { content = try readWholeFile(fp, limit: 1 << 36) } catch {
                throw ArtefactError(file: fp, message: "listed in the manifest but \(error)")
            }
            guard content.count == size else {
                throw ArtefactError(file: fp, message: "is \(content.count) bytes; the manifest says \(size)")
            }
            guard sha256(content) == hash else {
                throw ArtefactError(file: fp, message: "its SHA-256 differs from the manifest's: the file was changed after `snnc compile` wrote it")
            }
        }
    }

    // MARK: byte helpers (little-endian)

    public static func le32(_ v: Int32, _ out: inout [UInt8]) {
        let u = UInt32(bitPattern: v)
        for k in 0..<4 { out.append(UInt8((u >> (8 * UInt32(k))) & 0xFF)) }
    }

    /// Every value of `values` as little-endian int32s (one copy on a little-endian host).
    public static func le32(_ values: [Int32], _ out: inout [UInt8]) {
        #if _endian(little)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        #else
        for v in values { le32(v, &out) }
        #endif
    }

    public static func le64(_ v: Double, _ out: inout [UInt8]) {
        let u = v.bitPattern
        for k in 0..<8 { out.append(UInt8((u >> (8 * UInt64(k))) & 0xFF)) }
    }

    /// The int32 at byte offset o (the caller checks o + 4 ≤ count).
    @inline(__always)
    public static func i32(_ b: [UInt8], _ o: Int) -> Int32 {
        Int32(bitPattern: UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24)
    }

    /// The float64 at byte offset o (the caller checks o + 8 ≤ count).
    @inline(__always)
    public static func f64(_ b: [UInt8], _ o: Int) -> Double {
        var u: UInt64 = 0
        for k in 0..<8 { u |= UInt64(b[o + k]) << (8 * UInt64(k)) }
        return Double(bitPattern: u)
    }
}

/// A problem with an artefact directory: the file and what is wrong.
public struct ArtefactError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String
    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }
    public var description: String { "\(file): error[artefact-invalid]: \(message)" }
}
