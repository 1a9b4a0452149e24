// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "messageflowmodel.h"

#include "clientlistmodel.h"

#include <QColor>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace wsserve {

namespace {
constexpr qsizetype kPreviewChars = 160;

// The payload part of a text frame: element 4 of a V2 array, or "payload" of a V1 object.
QJsonValue payloadOf(const QByteArray &frame, bool *ok)
{
    const QJsonDocument document = QJsonDocument::fromJson(frame);
    *ok = true;
    if (document.isArray() && document.array().size() >= 5) {
        return document.array().at(4);
    }
    if (document.isObject() && document.object().contains(u"payload"_s)) {
        return document.object().value(u"payload"_s);
    }
    *ok = false;
    return {};
}

QString jsonText(const QJsonValue &value, QJsonDocument::JsonFormat format)
{
    if (value.isObject()) {
        return QString::fromUtf8(QJsonDocument(value.toObject()).toJson(format)).trimmed();
    }
    if (value.isArray()) {
        return QString::fromUtf8(QJsonDocument(value.toArray()).toJson(format)).trimmed();
    }
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2));
}
} // namespace

MessageFlowModel::MessageFlowModel(ServerController &controller, QObject *parent)
    : QAbstractTableModel(parent)
    , m_controller(controller)
{
    connect(&m_controller, &ServerController::instanceMessageFlow, this,
            [this](const QString &id, const MessageBatch &batch) {
                if (id == m_instanceId) {
                    addBatch(batch);
                }
            });
    connect(&m_controller, &ServerController::instanceClientsChanged, this,
            [this](const QString &id, const ClientList &clients) {
                if (id != m_instanceId) {
                    return;
                }
                if (m_names.learn(clients) && !m_rows.isEmpty()) {
                    emit dataChanged(index(0, ClientColumn), index(static_cast<int>(m_rows.size()) - 1, ClientColumn));
                }
            });
}

QString MessageFlowModel::clientName(quint64 clientId) const
{
    return ClientListModel::displayName(m_names.name(clientId), clientId);
}

MessageFlowModel::~MessageFlowModel()
{
    if (!m_instanceId.isEmpty()) {
        m_controller.setMessageFlowEnabled(m_instanceId, false);
    }
}

void MessageFlowModel::setInstance(const QString &id)
{
    if (id == m_instanceId) {
        return;
    }
    if (!m_instanceId.isEmpty()) {
        m_controller.setMessageFlowEnabled(m_instanceId, false);
    }
    m_instanceId = id;
    m_names.clear();
    clear();
    if (!m_instanceId.isEmpty()) {
        m_controller.setMessageFlowEnabled(m_instanceId, true);
    }
}

void MessageFlowModel::setPaused(bool paused)
{
    if (m_paused && !paused && m_skippedWhilePaused > 0) {
        // The gap is shown, never silent.
        Row marker;
        marker.marker = true;
        marker.event.timeMs = QDateTime::currentMSecsSinceEpoch();
        marker.preview = m_skippedWhilePaused == 1
                             ? tr("— 1 message not shown while paused —")
                             : tr("— %1 messages not shown while paused —").arg(m_skippedWhilePaused);
        appendRows({marker});
    }
    m_paused = paused;
    if (!paused) {
        m_skippedWhilePaused = 0;
    }
}

void MessageFlowModel::clear()
{
    beginResetModel();
    m_rows.clear();
    endResetModel();
}

void MessageFlowModel::addBatch(const MessageBatch &batch)
{
    const bool sampling = batch.dropped > 0;
    if (sampling != m_sampling || sampling) {
        m_sampling = sampling;
        emit samplingChanged(sampling, batch.dropped);
    }
    if (m_paused) {
        m_skippedWhilePaused += static_cast<quint64>(batch.events.size()) + batch.dropped;
        return;
    }
    if (batch.events.isEmpty()) {
        return;
    }
    QList<Row> rows;
    rows.reserve(std::min<qsizetype>(batch.events.size(), kMaxRows));
    for (qsizetype i = std::max<qsizetype>(0, batch.events.size() - kMaxRows); i < batch.events.size(); ++i) {
        rows.append(Row{batch.events.at(i), previewOf(batch.events.at(i)), false});
    }
    appendRows(std::move(rows));
}

void MessageFlowModel::appendRows(QList<Row> incoming)
{
    // Trim the oldest rows first, then insert: the ring never exceeds kMaxRows.
    const qsizetype overflow = m_rows.size() + incoming.size() - kMaxRows;
    if (overflow > 0) {
        beginRemoveRows({}, 0, static_cast<int>(overflow) - 1);
        m_rows.remove(0, overflow);
        endRemoveRows();
    }
    const int first = static_cast<int>(m_rows.size());
    beginInsertRows({}, first, first + static_cast<int>(incoming.size()) - 1);
    m_rows.append(std::move(incoming));
    endInsertRows();
}

QString MessageFlowModel::previewOf(const MessageEvent &event)
{
    if (event.binary) {
        return u"<binary %1 B> "_s.arg(event.size) + QString::fromLatin1(event.frame.left(24).toHex(' '));
    }
    bool ok = false;
    const QJsonValue payload = payloadOf(event.frame, &ok);
    const QString text = ok ? jsonText(payload, QJsonDocument::Compact) : QString::fromUtf8(event.frame);
    return text.size() > kPreviewChars ? text.left(kPreviewChars) + u"…"_s : text;
}

QString MessageFlowModel::payloadDetail(const MessageEvent &event)
{
    QString detail;
    if (event.binary) {
        // 16 bytes a line: offset, hex, ASCII.
        for (qsizetype offset = 0; offset < event.frame.size(); offset += 16) {
            const QByteArray chunk = event.frame.mid(offset, 16);
            QString ascii;
            for (const char c : chunk) {
                ascii += (c >= 0x20 && c < 0x7f) ? QChar::fromLatin1(c) : u'.';
            }
            detail += u"%1  %2  %3\n"_s.arg(static_cast<qlonglong>(offset), 6, 16, QChar(u'0'))
                          .arg(QString::fromLatin1(chunk.toHex(' ')), -47)
                          .arg(ascii);
        }
    } else {
        bool ok = false;
        const QJsonValue payload = payloadOf(event.frame, &ok);
        detail = ok ? jsonText(payload, QJsonDocument::Indented) : QString::fromUtf8(event.frame);
    }
    if (event.truncated) {
        detail += u"\n… (frame of %1 bytes, cut at %2)"_s.arg(event.size).arg(MessageEvent::kMaxFrameBytes);
    }
    return detail;
}

QByteArray MessageFlowModel::toJsonLine(const MessageEvent &event)
{
    QJsonObject object{
        {u"time"_s, QDateTime::fromMSecsSinceEpoch(event.timeMs).toUTC().toString(Qt::ISODateWithMs)},
        {u"direction"_s, event.outgoing ? u"out"_s : u"in"_s},
        {u"client"_s, event.clientId == 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(QString::number(event.clientId))},
        {u"topic"_s, event.topic},
        {u"event"_s, event.event},
        {u"size"_s, static_cast<qint64>(event.size)},
    };
    if (event.clientId == 0) {
        object.insert(u"recipients"_s, event.recipients);
    }
    if (event.binary) {
        object.insert(u"frame_base64"_s, QString::fromLatin1(event.frame.toBase64()));
    } else {
        object.insert(u"frame"_s, QString::fromUtf8(event.frame));
    }
    if (event.truncated) {
        object.insert(u"truncated"_s, true);
    }
    return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
}

int MessageFlowModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int MessageFlowModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MessageFlowModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size()) {
        return {};
    }
    const Row &row = m_rows.at(index.row());
    const MessageEvent &event = row.event;
    if (row.marker) {
        if (role == Qt::ForegroundRole) {
            return QColor(0xb2, 0x6a, 0x00);
        }
        if (role != Qt::DisplayRole) {
            return {};
        }
        if (index.column() == TimeColumn) {
            return QDateTime::fromMSecsSinceEpoch(event.timeMs).toString(u"HH:mm:ss.zzz"_s);
        }
        return index.column() == PayloadColumn ? row.preview : QString();
    }
    if (role == Qt::ToolTipRole && index.column() == ClientColumn && event.clientId != 0) {
        return tr("client id %1").arg(event.clientId);
    }
    if (role == Qt::ForegroundRole && index.column() == DirectionColumn) {
        return event.outgoing ? QColor(0x2a, 0x6f, 0xc9) : QColor(0x2e, 0x9e, 0x4f);
    }
    if (role != Qt::DisplayRole) {
        return {};
    }
    switch (index.column()) {
    case TimeColumn:
        return QDateTime::fromMSecsSinceEpoch(event.timeMs).toString(u"HH:mm:ss.zzz"_s);
    case DirectionColumn:
        return event.outgoing ? u"out →"_s : u"← in"_s;
    case ClientColumn:
        return event.clientId == 0 ? tr("all (%1)").arg(event.recipients) : clientName(event.clientId);
    case TopicColumn:
        return event.topic;
    case EventColumn:
        return event.event;
    case SizeColumn:
        return static_cast<qint64>(event.size);
    case PayloadColumn:
        return row.preview;
    default:
        return {};
    }
}

QVariant MessageFlowModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return {};
    }
    switch (section) {
    case TimeColumn:
        return tr("Time");
    case DirectionColumn:
        return tr("Dir");
    case ClientColumn:
        return tr("Client");
    case TopicColumn:
        return tr("Topic");
    case EventColumn:
        return tr("Event");
    case SizeColumn:
        return tr("Size");
    case PayloadColumn:
        return tr("Payload");
    default:
        return {};
    }
}

void MessageFilterProxy::setFilter(Field field, const QString &text)
{
    m_field = field;
    m_text = text.trimmed();
    invalidateFilter();
}

bool MessageFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const auto *flow = qobject_cast<const MessageFlowModel *>(sourceModel());
    if (m_text.isEmpty() || (flow && flow->isMarker(sourceRow))) {
        return true; // a pause gap stays visible whatever the filter
    }
    const auto cell = [&](int column) {
        return sourceModel()->index(sourceRow, column, sourceParent).data().toString();
    };
    const auto matches = [&](int column) {
        return cell(column).contains(m_text, Qt::CaseInsensitive);
    };
    using C = MessageFlowModel::Column;
    // A client by name (part of it) or by its id.
    const auto matchesClient = [&] {
        const auto *model = qobject_cast<const MessageFlowModel *>(sourceModel());
        const quint64 id = model ? model->eventAt(sourceRow).clientId : 0;
        return matches(C::ClientColumn) || (id != 0 && QString::number(id) == m_text);
    };
    switch (m_field) {
    case Field::Topic:
        return matches(C::TopicColumn);
    case Field::Event:
        return matches(C::EventColumn);
    case Field::Client:
        return matchesClient();
    case Field::Payload:
        return matches(C::PayloadColumn);
    case Field::All:
    case Field::Invalid:
        break;
    }
    return matches(C::TopicColumn) || matches(C::EventColumn) || matches(C::PayloadColumn) || matchesClient();
}

} // namespace wsserve
