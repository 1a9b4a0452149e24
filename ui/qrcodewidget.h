// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#pragma once

#include "web/qrcode.h"

#include <QWidget>

namespace wsserve {

// A QR code of a text (a page's URL), drawn black on white with its quiet zone, as large as the widget
// allows. Thread: GUI thread.
class QrCodeWidget final : public QWidget
{
    Q_OBJECT

public:
    explicit QrCodeWidget(QWidget *parent = nullptr);

    void setText(const QString &text);
    QString text() const { return m_text; }
    bool isValid() const { return m_matrix.size > 0; }
    QSize sizeHint() const override { return {180, 180}; }
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override { return width; }

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    QString m_text;
    web::QrMatrix m_matrix;
};

// "Show full screen": the code and its URL over the whole screen, for a classroom projector. Esc, a click
// or a key closes it; deleted on close. Thread: GUI thread.
class QrFullScreen final : public QWidget
{
    Q_OBJECT

public:
    explicit QrFullScreen(const QString &text, QWidget *parent = nullptr);

protected:
    void keyPressEvent(QKeyEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
};

} // namespace wsserve
