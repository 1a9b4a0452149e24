// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QTableWidget;
class QTimer;

namespace wsserve {

class ServerController;

// "History": the stored history of one instance (core/store through the facade): its topics with their
// counts, the newest messages of the selected topic, and buttons to clear one topic or all. A warning
// line shows when history is paused after a write error (disk full). Refreshed every second while
// shown. Thread: GUI thread.
class HistoryPanel final : public QWidget
{
    Q_OBJECT

public:
    static constexpr int kShownMessages = 200;

    explicit HistoryPanel(ServerController &controller, QWidget *parent = nullptr);

    void setInstance(const QString &id);
    // Reads the topics, the selected topic's messages and the store's state again.
    void refresh();

    QTableWidget *topics() const { return m_topics; }
    QTableWidget *messages() const { return m_messages; }
    QLabel *warning() const { return m_warning; }
    QPushButton *clearTopicButton() const { return m_clearTopic; }
    QPushButton *clearAllButton() const { return m_clearAll; }

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void refreshMessages();
    QString selectedTopic() const;

    ServerController &m_controller;
    QString m_instanceId;
    QLabel *m_where = nullptr;
    QLabel *m_warning = nullptr;
    QTableWidget *m_topics = nullptr;
    QTableWidget *m_messages = nullptr;
    QPushButton *m_clearTopic = nullptr;
    QPushButton *m_clearAll = nullptr;
    QTimer *m_timer = nullptr;
};

} // namespace wsserve
