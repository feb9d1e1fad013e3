// Diagnostics: every problem snnc reports is one `Diagnostic` with a stable id from
// `DiagnosticID`, the file, the object (node, tensor, field), and a message that gives the
// expected and the found value. Rendered as
//   model.json: node 'fc2': error[shape-mismatch]: weight is [60, 50] but …; note: …
import SNNCJSON
#if canImport(Glibc)
import Glibc
#endif

/// Stable diagnostic ids. Their spelling is an interface: scripts and tests match on it.
/// Docs/diagnostics.md lists each with an example.
public enum DiagnosticID: String, Sendable, CaseIterable {
    // Files and JSON syntax
    case fileUnreadable = "file-unreadable"
    case fileTooLarge = "file-too-large"
    case outputUnwritable = "output-unwritable"
    case jsonEmpty = "json-empty"
    case jsonSyntax = "json-syntax"
    case jsonTruncated = "json-truncated"
    case jsonTooDeep = "json-too-deep"
    // Document structure
    case fieldMissing = "field-missing"
    case fieldType = "field-type"
    case fieldValue = "field-value"
    case unknownField = "unknown-field"
    case formatUnknown = "format-unknown"
    case versionUnsupported = "version-unsupported"
    case layoutUnknown = "layout-unknown"
    // Graph
    case nodeNameInvalid = "node-name-invalid"
    case nodeNameDuplicate = "node-name-duplicate"
    case opUnknown = "op-unknown"
    case inputCount = "input-count"
    case inputUnknown = "input-unknown"
    case graphCycle = "graph-cycle"
    case graphNoInput = "graph-no-input"
    case graphUnused = "graph-unused"
    case noReadout = "no-readout"
    case unsupportedPattern = "unsupported-pattern"
    // ONNX import (Docs/onnx.md)
    case onnxParse = "onnx-parse"
    case onnxOpset = "onnx-opset"
    case onnxGraph = "onnx-graph"
    case onnxType = "onnx-type"
    case onnxDynamicShape = "onnx-dynamic-shape"
    case onnxInitializer = "onnx-initializer"
    case onnxExternalData = "onnx-external-data"
    case onnxOpUnsupported = "onnx-op-unsupported"
    case onnxAttribute = "onnx-attribute"
    case onnxDropped = "onnx-dropped"
    case nirParse = "nir-parse"
    case nirVersion = "nir-version"
    case nirGraph = "nir-graph"
    case nirNodeUnsupported = "nir-node-unsupported"
    case nirParameter = "nir-parameter"
    case nirRecurrent = "nir-recurrent"
    case nirExport = "nir-export"
    // Hardware profiles
    case profileNotFound = "profile-not-found"
    case profileUnsupported = "profile-unsupported"
    case neuronModelUnsupported = "neuron-model-unsupported"
    // Quantisation
    case quantZeroed = "quant-zeroed"
    case quantClipped = "quant-clipped"
    case overflowPossible = "overflow-possible"
    case quantRangeAssumed = "quant-range-assumed"
    case quantDecay = "quant-decay"
    /// A chip family's register cannot hold a value: rounded and reported (note, warning) or
    /// refused (error).
    case chipValue = "chip-value"
    /// A reset the chip family's neuron does not have.
    case chipReset = "chip-reset"
    /// `snnc export-lava`: a layer lava-dl's netx format cannot carry.
    case lavaExport = "lava-export"
    case calibrationData = "calibration-data"
    case verifierFailed = "verifier-failed"
    case poolFolded = "pool-folded"
    // Mapping: per-core limits, chip size, routing
    case coreNeurons = "core-neurons"
    case coreStateMemory = "core-state-memory"
    case coreFanIn = "core-fan-in"
    case coreSynapseMemory = "core-synapse-memory"
    case coreOutputAxons = "core-output-axons"
    case coreDestinations = "core-destinations"
    case chipCores = "chip-cores"
    case boardUnknown = "board-unknown"
    case routerEntries = "router-entries"
    case routeCheck = "route-check"
    case ratesFile = "rates-file"
    case artefactInvalid = "artefact-invalid"
    case checkFailed = "check-failed"
    // Shapes and parameters
    case shapeInvalid = "shape-invalid"
    case shapeMismatch = "shape-mismatch"
    case rankMismatch = "rank-mismatch"
    case windowTooLarge = "window-too-large"
    case paramRange = "param-range"
    case asnParamMissing = "asn-param-missing"
    // Tensors
    case tensorTooLarge = "tensor-too-large"
    case tensorNonFinite = "tensor-non-finite"
    case tensorShape = "tensor-shape"
    case tensorMissing = "tensor-missing"
    case tensorDtype = "tensor-dtype"
    case weightsFileMissing = "weights-file-missing"
    // safetensors container
    case safetensorsHeader = "safetensors-header"
    case safetensorsOffsets = "safetensors-offsets"
    case safetensorsOverlap = "safetensors-overlap"
    case safetensorsTruncated = "safetensors-truncated"
    // Data sets
    case dataFormat = "data-format"
    case dataShape = "data-shape"
    case dataLabel = "data-label"
}

public enum Severity: String, Sendable, Comparable {
    case note, warning, error
    public static func < (a: Severity, b: Severity) -> Bool {
        let order: [Severity] = [.note, .warning, .error]
        return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }
}

public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public var severity: Severity
    public var id: DiagnosticID
    /// The file as the user named it.
    public var file: String
    /// What the problem is about, as printed: "node 'fc2'", "tensor 'fc1.weight'", "profile 'loihi'"; nil for the file itself.
    public var object: String?
    public var message: String
    public var notes: [String]

    public init(_ severity: Severity, _ id: DiagnosticID, file: String, object: String? = nil,
                _ message: String, notes: [String] = []) {
        self.severity = severity
        self.id = id
        self.file = file
        self.object = object
        self.message = message
        self.notes = notes
    }

    public var description: String {
        var s = file + ": "
        if let object { s += object + ": " }
        s += "\(severity.rawValue)[\(id.rawValue)]: \(message)"
        for n in notes { s += "; note: " + n }
        return s
    }

    public var json: JSONOutput {
        .object([
            ("severity", .string(severity.rawValue)),
            ("id", .string(id.rawValue)),
            ("file", .string(file)),
            ("object", object.map { .string($0) } ?? .null),
            ("message", .string(message)),
            ("notes", .array(notes.map { .string($0) })),
        ])
    }
}

/// Collects diagnostics for one file.
public struct DiagnosticBag: Sendable {
    public let file: String
    public private(set) var items: [Diagnostic] = []

    public init(file: String) { self.file = file }

    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { items.filter { $0.severity == .error } }

    public mutating func error(_ id: DiagnosticID, _ object: String?, _ message: String, notes: [String] = []) {
        items.append(Diagnostic(.error, id, file: file, object: object, message, notes: notes))
    }

    public mutating func warning(_ id: DiagnosticID, _ object: String?, _ message: String, notes: [String] = []) {
        items.append(Diagnostic(.warning, id, file: file, object: object, message, notes: notes))
    }

    public mutating func append(contentsOf other: [Diagnostic]) { items.append(contentsOf: other) }
}

/// Thrown when a file cannot be used; carries every diagnostic found (errors and warnings).
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
    public let diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// "[60, 50]"
public func formatShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// `v` with a fixed count of decimals, without Foundation: formatFixed(0.12345, 2) = "0.12".
public func formatFixed(_ v: Double, _ decimals: Int) -> String {
    guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
    // Beyond 2^53 (or more than 15 decimals) digits are not exact anyway: shortest round trip.
    guard decimals >= 0, decimals <= 15, abs(v) * pow10(decimals) < checkedIntLimit else { return "\(v)" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let r = (abs(v) * scale).rounded()
    let ip = Int(r / scale)
    var frac = Int(r - Double(ip) * scale)
    var fs = ""
    for _ in 0..<decimals {
        fs = String(frac % 10) + fs
        frac /= 10
    }
    return (v < 0 && r != 0 ? "-" : "") + String(ip) + (decimals > 0 ? "." + fs : "")
}

/// `v` with about `digits` significant digits (no exponent notation): 4.217, 0.0005035, 12800.
public func formatSignificant(_ v: Double, _ digits: Int = 4) -> String {
    guard v.isFinite, v != 0 else { return formatFixed(v, 0) }
    let magnitude = Int(log10(abs(v)).rounded(.down))
    return formatFixed(v, min(15, max(0, digits - 1 - magnitude)))
}

private func pow10(_ n: Int) -> Double {
    var s = 1.0
    for _ in 0..<max(0, n) { s *= 10 }
    return s
}

extension StringProtocol {
    /// The text without leading and trailing characters from `set` (spaces and tabs by default),
    /// without Foundation.
    public func trimmed(_ set: String = " \t") -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
