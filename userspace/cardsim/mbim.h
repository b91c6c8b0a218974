/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cardsim: the card behind a simulated MBIM function (USB CDC MBIM 1.0), as
 * a laptop's or a phone's SIM sits behind its modem. The function is a
 * pseudo-terminal; the host on its slave side speaks MBIM control messages
 * (libmbim, mbimcli, mbim-proxy) and the function drives the card with
 * APDUs, handing it the proactive commands the host claims.
 *
 * The line. A pty has no transfers, so messages are taken from the byte
 * stream by their MessageLength. All fields are little-endian u32 unless
 * said otherwise; offsets are from the start of the message, and within an
 * information buffer from its start.
 *   Header: 0 MessageType, 4 MessageLength, 8 TransactionId.
 *   Fragment header (COMMAND, COMMAND_DONE, INDICATE_STATUS): 12
 *   TotalFragments, 16 CurrentFragment.
 * A MessageLength below 12 or above MBIM_MESSAGE_MAX, or a message not
 * complete MBIM_PARTIAL_MS after its last octet arrived, is answered with
 * FUNCTION_ERROR LENGTH_MISMATCH and everything buffered is discarded to
 * find the next message boundary again.
 *
 * Host to function:
 *   OPEN_MSG 1 (16 octets): 12 MaxControlTransfer (at least 64). A second
 *	OPEN starts the session over.
 *   CLOSE_MSG 2 (12 octets).
 *   COMMAND_MSG 3: 20 DeviceServiceId (16 octets, UUID in network order),
 *	36 CID, 40 CommandType (0 query, 1 set), 44 InformationBufferLength
 *	(= MessageLength - 48), 48 InformationBuffer. Only single-fragment
 *	commands are taken: every command here fits one message of
 *	MBIM_MESSAGE_MAX, so the function does not reassemble.
 *   HOST_ERROR_MSG 4 (16 octets): 12 ErrorStatusCode; logged.
 * Function to host:
 *   OPEN_DONE 0x80000001, CLOSE_DONE 0x80000002 (16 octets): 12 Status 0.
 *   COMMAND_DONE 0x80000003: 20 DeviceServiceId, 36 CID, 40 Status,
 *	44 InformationBufferLength, 48 InformationBuffer.
 *   FUNCTION_ERROR 0x80000004 (16 octets): 12 ErrorStatusCode, with the
 *	offending message's TransactionId (0 if it had none):
 *	  2 FRAGMENT_OUT_OF_SEQUENCE  a later fragment of a command, or
 *				      fragment numbers that make no sense
 *	  3 LENGTH_MISMATCH	      a length that does not add up
 *	  5 NOT_OPENED		      a COMMAND before OPEN
 *	  6 UNKNOWN		      an unknown or function-to-host type
 *	  8 MAX_TRANSFER	      the first of a multi-fragment command,
 *				      or an OPEN's MaxControlTransfer < 64
 *   INDICATE_STATUS 0x80000007, TransactionId 0: 20 DeviceServiceId,
 *	36 CID, 40 InformationBufferLength, 44 InformationBuffer.
 * Messages longer than the host's MaxControlTransfer go in fragments.
 *
 * Commands (anything else: status NO_DEVICE_SUPPORT 9, an empty buffer):
 *   Basic Connect a289cc33-bcbb-8b4f-b6b0-133ec2aae6df
 *     1 DEVICE_CAPS query: MBIM_DEVICE_CAPS_INFO, 0 DeviceType removable,
 *	4 CellularClass GSM, 8 VoiceClass no voice, 12 SimClass removable,
 *	16 DataClass UMTS|LTE, 20 SmsCaps 0, 24 ControlCaps 0, 28 MaxSessions
 *	1, then offset/size pairs of UTF-16LE strings: 32 CustomDataClass
 *	(none), 40 DeviceId, 48 FirmwareInfo, 56 HardwareInfo; data from 64.
 *     16 DEVICE_SERVICES query: 0 count, 4 MaxDssSessions 0, 8 an
 *	offset/size pair per service, then each: UUID, DssPayload 0,
 *	MaxDssInstances 0, CidCount, the CIDs. It lists these services.
 *   STK d8f20131-fcb5-4e17-8602-d6ed3816164c
 *     1 PAC query: PacSupport, 256 octets, one MbimStkPacProfile per
 *	proactive command type: 7 "handled by host, function able to handle"
 *	for the BIP types (SET UP EVENT LIST 05, OPEN/CLOSE CHANNEL 40/41,
 *	RECEIVE/SEND DATA 42/43, GET CHANNEL STATUS 44), or with keeps_bip 2
 *	"handled by function only"; 1 "not handled by function, may be
 *	handled by host" for the others.
 *     1 PAC set: PacHostControl, 32 octets; type n is claimed by bit n % 8
 *	(bit 0 the lowest) of octet n / 8. Answered with PacSupport. A new
 *	set of claims sends the card a TERMINAL PROFILE, whose toolkit then
 *	starts over: the function's own profile, with sctlsd's BIP server
 *	profile OR'd in when every BIP type is claimed. With keeps_bip, a set
 *	claiming any BIP type: OPERATION_NOT_ALLOWED 28, nothing changes.
 *	Not 32 octets: INVALID_PARAMETERS 21.
 *     1 PAC notification: 0 PacType 0 (proactive command), 4 the command
 *	as fetched (D0 ...), to the end of the message, unpadded.
 *     2 TERMINAL_RESPONSE set: 0 ResponseLength (1..255), 4 the response
 *	(padding after it ignored), to the card for the command outstanding.
 *	None outstanding: OPERATION_NOT_ALLOWED; a bad length: INVALID_
 *	PARAMETERS. Answer: 0 ResultData offset 0, 4 its size 0, 8
 *	StatusWords, the card's SW1 << 8 | SW2 (a card's refusal shows there,
 *	and the command stays outstanding).
 *     3 ENVELOPE query: EnvelopeSupport, 32 octets, the same bit order:
 *	tag D6, event download.
 *     3 ENVELOPE set: one BER-TLV (its own length tells where the padding
 *	starts; at most 255 octets, less than 4 of padding, or INVALID_
 *	PARAMETERS). The card's 9300: STK_BUSY 27; another failing SW:
 *	FAILURE 2; otherwise success and an empty buffer.
 *   MS UICC Low Level Access c2f6588e-f037-4bc9-8665-f4d44bd09367
 *     1 ATR query: 0 AtrSize, 4 AtrOffset (size first, as Microsoft's
 *	MBIM_MS_ATR_INFO and libmbim have it), the ATR from 8.
 *
 * The card. Whenever it answers 91xx the function FETCHes the command.
 * Claimed types go to the host in a PAC notification, one at a time: the
 * next waits for the TERMINAL_RESPONSE. The function answers the others
 * itself, "command beyond terminal's capabilities" (30). While a profile
 * has been sent and nothing is outstanding, the card is polled with
 * STATUS every poll_ms, so that what its web server writes gets out.
 *
 * The session. The PAC claims belong to the host that made them: CLOSE, a
 * new OPEN, or the host closing the slave forgets them (a command handed
 * to a host that has gone cannot be answered; the next claims send a new
 * TERMINAL PROFILE and the card starts over). While no one has the slave
 * open, nothing is written; what the last host left unread is flushed.
 */
#ifndef CARDSIM_MBIM_H
#define CARDSIM_MBIM_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "uicc.h"

#define MBIM_MESSAGE_MAX	4096	/* the function's MaxControlTransfer */
#define MBIM_PARTIAL_MS		1000
#define MBIM_POLL_MS_DEFAULT	20

struct mbim_face_options {
	unsigned int poll_ms;		/* STATUS this often while idle, 0: default */
	bool keeps_bip;			/* test mode: the function keeps BIP to itself */
	unsigned int reset_after;	/* test mode: 0, or reset after N terminal responses */
	bool tracing;			/* each MBIM message and APDU, to stderr */
};

/*
 * Serve MBIM on the pty master fd (made non-blocking) until SIGTERM or
 * SIGINT sets *stop: 0. With reset_after, once a process, after that many
 * TERMINAL_RESPONSEs: the card reset and 1, for the caller to close master
 * and offer a new pty, as a USB function re-enumerating would. Or -1
 * having said why in err. SIGTERM and SIGINT stay blocked but in ppoll()
 * and while the card runs (it may fork sessions), so a stop is not missed.
 */
int mbim_run(int master, struct uicc *u, const struct mbim_face_options *opt,
	     volatile sig_atomic_t *stop, char *err, size_t errlen);

/*
 * Be the function on a pty linked from path until SIGTERM or SIGINT, then
 * remove the link: 0. After a reset, a new pty behind the same link. Or
 * -1 having said why in err.
 */
int mbim_serve(const char *path, struct uicc *u, const struct mbim_face_options *opt,
	       char *err, size_t errlen);

#endif
