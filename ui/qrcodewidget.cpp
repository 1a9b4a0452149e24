// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
#include "qrcodewidget.h"

#include <QKeyEvent>
#include <QLabel>
#include <QPainter>
#include <QVBoxLayout>

namespace wsserve {

QrCodeWidget::QrCodeWidget(QWidget *parent)
    : QWidget(parent)
{
    setMinimumSize(120, 120);
    QSizePolicy policy(QSizePolicy::Preferred, QSizePolicy::Preferred);
    policy.setHeightForWidth(true);
    setSizePolicy(policy);
}

void QrCodeWidget::setText(const QString &text)
{
    m_text = text;
    m_matrix = web::encodeQr(text.toUtf8());
    setAccessibleName(tr("QR code of %1").arg(text));
    setToolTip(text);
    update();
}

void QrCodeWidget::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    const int side = std::min(width(), height());
    const QRect square((width() - side) / 2, (height() - side) / 2, side, side);
    painter.fillRect(square, Qt::white);
    if (m_matrix.size == 0) {
        return;
    }
    constexpr int quiet = 4;
    const int modules = m_matrix.size + 2 * quiet;
    const int module = std::max(1, side / modules); // whole pixels: crisp edges for cameras
    const int drawn = module * modules;
    const QPoint origin(square.x() + (side - drawn) / 2 + quiet * module,
                        square.y() + (side - drawn) / 2 + quiet * module);
    for (int y = 0; y < m_matrix.size; ++y) {
        for (int x = 0; x < m_matrix.size; ++x) {
            if (m_matrix.isDark(x, y)) {
                painter.fillRect(origin.x() + x * module, origin.y() + y * module, module, module, Qt::black);
            }
        }
    }
}

QrFullScreen::QrFullScreen(const QString &text, QWidget *parent)
    : QWidget(parent, Qt::Window)
{
    setAttribute(Qt::WA_DeleteOnClose);
    setWindowTitle(tr("Join: %1").arg(text));
    QPalette white = palette();
    white.setColor(QPalette::Window, Qt::white);
    white.setColor(QPalette::WindowText, Qt::black);
    setPalette(white);
    setAutoFillBackground(true);
    auto *layout = new QVBoxLayout(this);
    auto *code = new QrCodeWidget(this);
    code->setObjectName(QStringLiteral("fullScreenQr"));
    code->setText(text);
    layout->addWidget(code, 1);
    auto *label = new QLabel(text, this);
    label->setAlignment(Qt::AlignCenter);
    QFont big = label->font();
    big.setPointSize(big.pointSize() * 3);
    label->setFont(big);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(label);
    auto *hint = new QLabel(tr("Press Esc to close"), this);
    hint->setAlignment(Qt::AlignCenter);
    layout->addWidget(hint);
}

void QrFullScreen::keyPressEvent(QKeyEvent *event)
{
    event->accept();
    close();
}

void QrFullScreen::mousePressEvent(QMouseEvent *event)
{
    event->accept();
    close();
}

} // namespace wsserve
