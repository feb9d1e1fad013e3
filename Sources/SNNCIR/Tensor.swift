// Tensors: a shape and storage that is either owned doubles (tensors written inline in the
// model JSON) or a typed view into a memory-mapped safetensors file (never copied to be read).

/// Element types snnc reads from safetensors files.
public enum DType: String, Sendable, CaseIterable {
    case f16 = "F16", bf16 = "BF16", f32 = "F32", f64 = "F64"

    public var byteSize: Int {
        switch self {
        case .f16, .bf16: return 2
        case .f32: return 4
        case .f64: return 8
        }
    }
}

/// Largest number of elements any tensor or activation may have (2^32). Beyond it a shape is
/// refused with `tensor-too-large` instead of being allocated.
public let maxTensorElements = 1 << 32

/// Product of dims, or nil if any dim is < 1 or the product exceeds `maxTensorElements`.
public func elementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
        guard d >= 1 else { return nil }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        guard !overflow, p <= maxTensorElements else { return nil }
        n = p
    }
    return n
}

public final class TensorStorage: @unchecked Sendable {
    // @unchecked: immutable after creation; mapped files are read-only.
    public enum Backing {
        case owned([Double])
        case mapped(file: MappedFile, byteOffset: Int, dtype: DType)
    }
    public let backing: Backing
    public let count: Int

    public init(owned values: [Double]) {
        backing = .owned(values)
        count = values.count
    }

    public init(file: MappedFile, byteOffset: Int, dtype: DType, count: Int) {
        backing = .mapped(file: file, byteOffset: byteOffset, dtype: dtype)
        self.count = count
    }

    @inline(__always)
    public func value(at i: Int) -> Double {
        switch backing {
        case .owned(let values):
            return values[i]
        case let .mapped(file, offset, dtype):
            let p = file.bytes.baseAddress! + offset
            switch dtype {
            case .f32:
                return Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
            case .f64:
                return Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
            case .f16:
                return Double(halfToFloat(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
            case .bf16:
                let bits = UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16
                return Double(Float(bitPattern: bits))
            }
        }
    }

    /// Calls `body` with every element in order; returns early when `body` returns false.
    /// For F32 files this is a tight loop over the mapped bytes.
    public func forEach(_ body: (Int, Double) -> Bool) {
        switch backing {
        case .owned(let values):
            for (i, v) in values.enumerated() where !body(i, v) { return }
        case let .mapped(file, offset, dtype):
            if dtype == .f32 {
                let p = file.bytes.baseAddress! + offset
                for i in 0..<count {
                    let v = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    if !body(i, Double(v)) { return }
                }
            } else {
                for i in 0..<count where !body(i, value(at: i)) { return }
            }
        }
    }
}

/// IEEE 754 binary16 → binary32, exact for every value (subnormals, inf, NaN included).
public func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = Int((h >> 10) & 0x1F)
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        if mant == 0 { return Float(bitPattern: sign) }
        // subnormal: mant × 2^-24
        let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
}

/// Where a tensor came from, for diagnostics.
public enum TensorSource: Sendable, Equatable {
    case inline
    case safetensors(file: String, name: String, dtype: DType)
}

public struct Tensor: Sendable {
    public let shape: [Int]
    public let storage: TensorStorage
    public let source: TensorSource

    public init(shape: [Int], values: [Double]) {
        precondition(elementCount(shape) == values.count, "shape and value count disagree")
        self.shape = shape
        self.storage = TensorStorage(owned: values)
        self.source = .inline
    }

    public init(shape: [Int], storage: TensorStorage, source: TensorSource) {
        self.shape = shape
        self.storage = storage
        self.source = source
    }

    public var count: Int { storage.count }
    public subscript(i: Int) -> Double { storage.value(at: i) }

    /// Copies the elements out as doubles (for numeric passes, which want contiguous arrays).
    public func toDoubles() -> [Double] {
        if case .owned(let v) = storage.backing { return v }
        var out = [Double](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { buf in
            storage.forEach { i, v in buf[i] = v; return true }
        }
        return out
    }

    /// Index of the first NaN or infinite element, or nil.
    public func firstNonFinite() -> Int? {
        var found: Int? = nil
        storage.forEach { i, v in
            if !v.isFinite { found = i; return false }
            return true
        }
        return found
    }

    /// Bytes this tensor occupies in its source (8 per inline double).
    public var sourceBytes: Int {
        if case .safetensors(_, _, let dtype) = source { return count * dtype.byteSize }
        return count * 8
    }
}
