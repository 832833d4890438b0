import Foundation
import Logging
import NIOSSL

/// The server's TLS context, rebuilt from disk when the certificate, key or CA files change
/// (checked every second) or on SIGHUP: new connections get the new certificate, connections
/// already open keep the context they were accepted with. A file pair caught half-written
/// fails to load, is logged, and is retried when the files change again; the old context
/// stays in use meanwhile.
///
/// Confined to the broker's event loop.
final class CertificateStore {
    let settings: TLSSettings
    private(set) var context: NIOSSLContext
    private var loadedVersion: [FileVersion]
    private var failedVersion: [FileVersion]?

    /// Identifies a file's content cheaply: replaced files get a new inode, rewritten ones a
    /// new size or modification time.
    struct FileVersion: Equatable {
        var inode: UInt64
        var size: Int64
        var modified: Double
    }

    /// Loads the files; throws a message naming the file that could not be used.
    init(settings: TLSSettings) throws {
        self.settings = settings
        self.loadedVersion = Self.versions(settings)
        self.context = try Self.makeContext(settings)
    }

    /// Reloads if any file changed since the last load (or the last failed attempt).
    func reloadIfChanged(logger: Logger) {
        let current = Self.versions(settings)
        guard current != loadedVersion, current != failedVersion else { return }
        reload(logger: logger, versions: current)
    }

    /// Reloads unconditionally (SIGHUP).
    func reload(logger: Logger) {
        reload(logger: logger, versions: Self.versions(settings))
    }

    private func reload(logger: Logger, versions: [FileVersion]) {
        do {
            context = try Self.makeContext(settings)
            loadedVersion = versions
            failedVersion = nil
            logger.info("TLS certificate reloaded from \(settings.certificateFile); new connections use it")
        } catch {
            failedVersion = versions
            logger.error("TLS certificate not reloaded, still using the previous one: \(error)")
        }
    }

    private static func versions(_ settings: TLSSettings) -> [FileVersion] {
        [settings.certificateFile, settings.keyFile, settings.caCertificateFile].map { path in
            var info = stat()
            guard let path, stat(path, &info) == 0 else { return FileVersion(inode: 0, size: -1, modified: 0) }
            return FileVersion(
                inode: UInt64(info.st_ino), size: Int64(info.st_size),
                modified: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        }
    }

    static func makeContext(_ settings: TLSSettings) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(settings.certificateFile)
        } catch {
            throw TLSSetupError("ssl_options.certfile '\(settings.certificateFile)': \(error)")
        }
        guard !chain.isEmpty else {
            throw TLSSetupError("ssl_options.certfile '\(settings.certificateFile)' holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: settings.keyFile, format: .pem)
        } catch {
            throw TLSSetupError("ssl_options.keyfile '\(settings.keyFile)': \(error)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = settings.versions.min() == .tls13 ? .tlsv13 : .tlsv12
        configuration.maximumTLSVersion = settings.versions.max() == .tls12 ? .tlsv12 : .tlsv13
        if settings.verifyPeer {
            configuration.certificateVerification =
                settings.failIfNoPeerCertificate ? .noHostnameVerification : .optionalVerification
            if let ca = settings.caCertificateFile {
                do {
                    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
                } catch {
                    throw TLSSetupError("ssl_options.cacertfile '\(ca)': \(error)")
                }
            }
            configuration.sendCANameList = true
        } else {
            configuration.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("cannot use \(settings.certificateFile) with \(settings.keyFile): \(error)")
        }
    }
}

/// A TLS file that cannot be used, with the reason.
public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
