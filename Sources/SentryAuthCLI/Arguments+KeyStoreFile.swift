import SentryAuth
import SentryAuthCommandLine

extension Arguments {
    /// The key store file named by `--store FILE`.
    func keyStoreFile(command: String) throws -> FileKeyStore {
        let path = try required("--store", command: command)
        guard !path.isEmpty else { throw UsageError("--store needs a file path, not an empty one.", command: command) }
        return FileKeyStore(path: path)
    }
}
