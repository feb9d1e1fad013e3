// The only Swift code that calls HDF5 (Debian's libhdf5-dev, through the CHDF5 shim): a read-only
// view of an HDF5 file as groups and datasets — what a NIR file is (Docs/nir.md). Numbers are
// read as float64 whatever their stored type (HDF5 converts), strings as UTF-8 whether stored
// with variable or fixed length. Sizes are checked before anything is allocated; HDF5's own
// error printing is silenced, so every failure is a nil the caller turns into a diagnostic.
import CHDF5

final class HDF5File {
    let id: hid_t

    /// Largest dataset read: 2^28 elements (2 GiB of float64).
    static let maxElements = 1 << 28
    /// Largest string read, in bytes.
    static let maxStringBytes = 1 << 20

    /// The file, or why it cannot be opened.
    static func open(_ path: String) -> Result<HDF5File, HDF5Error> {
        snnc_h5_quiet()
        guard H5Fis_hdf5(path) > 0 else { return .failure(.notHDF5) }
        let f = H5Fopen(path, snnc_h5f_acc_rdonly(), snnc_h5p_default())
        guard f >= 0 else { return .failure(.unreadable) }
        return .success(HDF5File(id: f))
    }

    private init(id: hid_t) { self.id = id }
    deinit { H5Fclose(id) }

    enum Kind { case group, dataset, other }

    /// What the object at `path` is, nil if there is none.
    func kind(_ path: String) -> Kind? {
        guard H5Lexists(id, "/", snnc_h5p_default()) > 0 else { return nil }
        // Every link on the way must exist (H5Lexists on a path with a missing parent fails).
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            guard H5Lexists(id, prefix, snnc_h5p_default()) > 0 else { return nil }
        }
        let o = H5Oopen(id, path, snnc_h5p_default())
        guard o >= 0 else { return nil }
        defer { H5Oclose(o) }
        switch H5Iget_type(o) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return .other
        }
    }

    /// The names of a group's members, in the file's name order.
    func children(_ path: String) -> [String]? {
        let g = H5Gopen2(id, path, snnc_h5p_default())
        guard g >= 0 else { return nil }
        defer { H5Gclose(g) }
        var info = H5G_info_t()
        guard H5Gget_info(g, &info) >= 0, info.nlinks <= 1 << 20 else { return nil }
        var out: [String] = []
        for i in 0..<info.nlinks {
            let n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, snnc_h5p_default())
            guard n >= 0, n < 4096 else { return nil }
            var buf = [CChar](repeating: 0, count: Int(n) + 1)
            guard H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, Int(n) + 1, snnc_h5p_default()) >= 0 else { return nil }
            out.append(String(decoding: buf.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return out
    }

    /// A dataset's shape (empty for a scalar) and element count, with its open handle.
    private func openDataset(_ path: String) -> (d: hid_t, shape: [Int], count: Int)? {
        let d = H5Dopen2(id, path, snnc_h5p_default())
        guard d >= 0 else { return nil }
        let space = H5Dget_space(d)
        guard space >= 0 else { H5Dclose(d); return nil }
        defer { H5Sclose(space) }
        let rank = H5Sget_simple_extent_ndims(space)
        guard rank >= 0, rank <= 8 else { H5Dclose(d); return nil }
        var dims = [hsize_t](repeating: 0, count: Int(max(rank, 1)))
        guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else { H5Dclose(d); return nil }
        var shape: [Int] = []
        var count = 1
        for k in 0..<Int(rank) {
            guard dims[k] <= UInt64(Self.maxElements) else { H5Dclose(d); return nil }
            shape.append(Int(dims[k]))
            let (p, o) = count.multipliedReportingOverflow(by: Int(dims[k]))
            guard !o, p <= Self.maxElements else { H5Dclose(d); return nil }
            count = p
        }
        return (d, shape, count)
    }

    /// A numeric dataset as float64 (integers and floats of any width; nil for strings or
    /// compound types).
    func numbers(_ path: String) -> (shape: [Int], values: [Double])? {
        guard let (d, shape, count) = openDataset(path) else { return nil }
        defer { H5Dclose(d) }
        let t = H5Dget_type(d)
        guard t >= 0 else { return nil }
        let cls = H5Tget_class(t)
        H5Tclose(t)
        guard cls == H5T_INTEGER || cls == H5T_FLOAT else { return nil }
        var values = [Double](repeating: 0, count: count)
        if count > 0 {
            let ok = values.withUnsafeMutableBytes { H5Dread(d, snnc_h5t_native_double(), snnc_h5s_all(), snnc_h5s_all(), snnc_h5p_default(), $0.baseAddress) >= 0 }
            guard ok else { return nil }
        }
        return (shape, values)
    }

    /// A string dataset (scalar or array), element by element in row-major order.
    func strings(_ path: String) -> (shape: [Int], values: [String])? {
        guard let (d, shape, count) = openDataset(path) else { return nil }
        defer { H5Dclose(d) }
        let t = H5Dget_type(d)
        guard t >= 0 else { return nil }
        defer { H5Tclose(t) }
        guard H5Tget_class(t) == H5T_STRING else { return nil }
        if H5Tis_variable_str(t) > 0 {
            let mem = H5Tcopy(snnc_h5t_c_s1())
            defer { H5Tclose(mem) }
            guard H5Tset_size(mem, Int(bitPattern: UInt(bitPattern: -1))) >= 0, H5Tset_cset(mem, H5T_CSET_UTF8) >= 0 else { return nil }
            var ptrs = [UnsafeMutablePointer<CChar>?](repeating: nil, count: max(count, 1))
            let ok = ptrs.withUnsafeMutableBytes { H5Dread(d, mem, snnc_h5s_all(), snnc_h5s_all(), snnc_h5p_default(), $0.baseAddress) >= 0 }
            guard ok else { return nil }
            var out: [String] = []
            var tooLong = false
            for p in ptrs.prefix(count) {
                guard let p else { out.append(""); continue }
                let n = strnlen(p, Self.maxStringBytes + 1)
                if n > Self.maxStringBytes { tooLong = true }
                out.append(String(decoding: UnsafeRawBufferPointer(start: p, count: min(n, Self.maxStringBytes)), as: UTF8.self))
                free(p)
            }
            return tooLong ? nil : (shape, out)
        }
        let size = H5Tget_size(t)
        guard size > 0, size <= Self.maxStringBytes else { return nil }
        let (total, o) = size.multipliedReportingOverflow(by: max(count, 1))
        guard !o, total <= 1 << 28 else { return nil }
        let mem = H5Tcopy(t)
        defer { H5Tclose(mem) }
        var bytes = [UInt8](repeating: 0, count: total)
        let ok = bytes.withUnsafeMutableBytes { H5Dread(d, mem, snnc_h5s_all(), snnc_h5s_all(), snnc_h5p_default(), $0.baseAddress) >= 0 }
        guard ok else { return nil }
        let out = (0..<count).map { i -> String in
            let field = bytes[(i * size)..<((i + 1) * size)]
            return String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
        }
        return (shape, out)
    }
}

enum HDF5Error: Error {
    case notHDF5, unreadable
}

#if canImport(Glibc)
import Glibc
#endif
